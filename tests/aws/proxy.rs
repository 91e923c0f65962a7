//! A fault-injecting HTTP proxy in front of the emulator: refuses one region, denies
//! AssumeRole into one account, answers BatchWriteItem calls with every item unprocessed, or
//! fails TransactWriteItems.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What to break.
#[derive(Debug, Default)]
pub struct Faults {
    /// Requests signed for this region get 503.
    pub refuse_region: Mutex<Option<String>>,
    /// AssumeRole into a role of this account gets AccessDenied.
    pub deny_account: Mutex<Option<String>>,
    /// CloudWatch `GetMetricData` signed for this region gets AccessDenied, as a role
    /// without `cloudwatch:GetMetricData` does (rpc-v2-cbor, with the query-compatible
    /// error header CloudWatch sends).
    pub deny_metrics_region: Mutex<Option<String>>,
    /// This many BatchWriteItem calls are answered with all items unprocessed.
    pub unprocessed_calls: AtomicUsize,
    /// BatchWriteItem calls answered that way so far.
    pub faulted_batches: AtomicUsize,
    /// BatchWriteItem calls passed to the emulator.
    pub forwarded_batches: AtomicUsize,
    /// Milliseconds added to every answer, to model the round trip to AWS: `latency_ms`, or
    /// when `latency_max_ms` is larger, a value spread evenly over `latency_ms..=latency_max_ms`
    /// (the same sequence every run).
    pub latency_ms: AtomicUsize,
    pub latency_max_ms: AtomicUsize,
    /// Requests forwarded so far (the latency sequence's position).
    pub requests: AtomicUsize,
    /// While set, every TransactWriteItems call fails with a 500.
    pub fail_transactions: std::sync::atomic::AtomicBool,
    /// While set, the first attempt of every DynamoDB write (PutItem, UpdateItem, DeleteItem,
    /// BatchWriteItem, TransactWriteItems) is answered `ThrottlingException`, as a table over
    /// its capacity answers; `throttled` counts them.
    pub throttle_writes: std::sync::atomic::AtomicBool,
    pub throttled: AtomicUsize,
    /// The DynamoDB writes already throttled once (by body): each is refused once, its
    /// retry passes.
    pub throttled_bodies: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// S3 PUTs to a key containing this fail with a 500 `InternalError`.
    pub fail_puts_to: Mutex<Option<String>>,
    /// Every DynamoDB call seen: its operation (`Scan`, `Query`, …), `TableName` and
    /// `IndexName` (empty where the call has none at the top level).
    pub dynamo_calls: Mutex<Vec<DynamoCall>>,
    /// While set, the proxy itself answers EC2 DescribeInstances and the Scan of the
    /// registry table `marqo-indexes`, as AWS documents their answers, for any account and
    /// region: a fleet of as many scopes as wanted without the emulator holding an EC2 and a
    /// DynamoDB backend per account and region (about 10 MB each).
    pub recorded_fleet: Mutex<Option<RecordedFleet>>,
    /// The account each assumed role's access key belongs to, from the AssumeRole calls seen.
    pub assumed: Mutex<std::collections::HashMap<String, String>>,
    /// Answers the proxy gave from `recorded_fleet`.
    pub recorded_answers: AtomicUsize,
    /// While set, a TransactWriteItems of puts reaches the emulator as BatchWriteItem calls
    /// (the same items): the emulator copies every table for each transaction, which takes it
    /// seconds a call once a table holds thousands of items, where DynamoDB takes tens of
    /// milliseconds. The caller sees one call and its latency, as with DynamoDB.
    pub transactions_as_batches: std::sync::atomic::AtomicBool,
}

/// The fleet the proxy answers with: per scope (the caller's account, known from the
/// AssumeRole call that gave its access key, and region), `instances` instances tagged with the scope's first own index, and
/// a registry of `idx-shared` (every scope's) plus `own_indexes` of its own; while
/// `drop_last` holds, every third scope's registry has lost its last own index.
#[derive(Clone, Copy, Debug)]
pub struct RecordedFleet {
    pub instances: usize,
    pub own_indexes: usize,
    pub drop_last: bool,
}

impl RecordedFleet {
    /// A stable number for a scope.
    fn scope(key: &str, region: &str) -> u64 {
        format!("{key}/{region}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }

    fn own_index(scope: u64, n: usize) -> String {
        format!("idx-{scope:016x}-{n}")
    }

    /// EC2's DescribeInstances answer (query protocol, XML), one page.
    fn describe_instances(&self, key: &str, region: &str) -> String {
        let scope = Self::scope(key, region);
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>recorded</requestId><reservationSet>"#,
        );
        for n in 0..self.instances {
            let _ = write!(
                xml,
                "<item><reservationId>r-{scope:016x}{n}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item>\
                 <instanceId>i-{scope:016x}{n}</instanceId><imageId>ami-12c6146b</imageId>\
                 <instanceState><code>16</code><name>running</name></instanceState><instanceType>m6i.large</instanceType>\
                 <launchTime>2026-11-01T00:00:00.000Z</launchTime><placement><availabilityZone>{region}a</availabilityZone></placement>\
                 <privateIpAddress>10.0.{}.{}</privateIpAddress>\
                 <tagSet><item><key>marqo-index</key><value>{}</value></item><item><key>owner</key><value>bench</value></item></tagSet>\
                 </item></instancesSet></item>",
                n / 250,
                n % 250,
                Self::own_index(scope, 0),
            );
        }
        xml.push_str("</reservationSet></DescribeInstancesResponse>");
        xml
    }

    /// DynamoDB's Scan answer for the registry, one page.
    fn scan_registry(&self, key: &str, region: &str) -> String {
        let scope = Self::scope(key, region);
        let dropped = self.drop_last && scope.is_multiple_of(3);
        let mut ids = vec!["idx-shared".to_owned()];
        ids.extend((0..self.own_indexes).map(|n| Self::own_index(scope, n)));
        if dropped {
            ids.pop();
        }
        let items: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| {
                serde_json::json!({
                    "index_id": {"S": id}, "index_name": {"S": "bench"}, "customer_id": {"S": "acme"},
                    "status": {"S": "READY"}, "inference_type": {"S": "marqo.CPU.large"}, "inference_count": {"N": "2"},
                    "storage_class": {"S": "marqo.balanced.storage"}, "number_of_shards": {"N": "3"},
                    "number_of_replicas": {"N": "1"}, "marqo_version": {"S": "2.12.0"},
                    "created_at": {"S": "2026-01-02T03:04:05Z"}, "updated_at": {"S": "2026-02-03T04:05:06Z"}
                })
            })
            .collect();
        serde_json::json!({ "Count": items.len(), "ScannedCount": items.len(), "Items": items }).to_string()
    }
}

/// The access key a request is signed with.
fn access_key_of(request: &Request) -> Option<String> {
    let auth = request.headers().get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').next().map(str::to_owned)
}

/// One DynamoDB call the proxy saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamoCall {
    pub operation: String,
    pub table: String,
    pub index: String,
    /// Items the call writes: a BatchWriteItem's requests, a TransactWriteItems' operations,
    /// 1 for PutItem and UpdateItem.
    pub writes: usize,
    /// Items the answer holds: a Query's or Scan's `Count`, 1 for a GetItem that found one.
    pub reads: usize,
}

impl Faults {
    /// Items written by the DynamoDB calls seen so far.
    pub fn dynamo_writes(&self) -> usize {
        self.dynamo_calls.lock().unwrap().iter().map(|c| c.writes).sum()
    }

    /// Items read by the DynamoDB calls seen so far, on tables other than `except`.
    pub fn dynamo_reads(&self, except: &str) -> usize {
        self.dynamo_calls.lock().unwrap().iter().filter(|c| c.table != except).map(|c| c.reads).sum()
    }

    /// The DynamoDB calls seen so far whose operation is `operation`.
    pub fn dynamo_calls_of(&self, operation: &str) -> Vec<DynamoCall> {
        self.dynamo_calls.lock().unwrap().iter().filter(|c| c.operation == operation).cloned().collect()
    }
}

/// A running proxy.
pub struct Proxy {
    pub url: String,
    pub faults: Arc<Faults>,
}

struct Shared {
    target: String,
    faults: Arc<Faults>,
    client: reqwest::Client,
}

impl Proxy {
    /// Starts a proxy to `target` on a free loopback port.
    pub async fn start(target: &str) -> Proxy {
        let faults = Arc::new(Faults::default());
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_owned(),
            faults: Arc::clone(&faults),
            client: reqwest::Client::new(),
        });
        let app = axum::Router::new().fallback(forward).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Proxy { url, faults }
    }
}

/// This request's added latency: fixed, or spread over the configured range by a
/// multiplicative hash of the request's number.
fn latency_of(faults: &Faults) -> usize {
    let n = faults.requests.fetch_add(1, Ordering::SeqCst);
    let (low, high) =
        (faults.latency_ms.load(Ordering::SeqCst), faults.latency_max_ms.load(Ordering::SeqCst));
    if high <= low {
        return low;
    }
    let spread = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    low + usize::try_from(spread % (high - low + 1) as u64).unwrap_or(0)
}

fn region_of(request: &Request) -> Option<String> {
    let auth = request.headers().get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(2).map(str::to_owned)
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let latency = latency_of(&shared.faults);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(latency).unwrap_or(0))).await;
    }
    let region = region_of(&request);
    let target_op =
        request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if let (Some(refused), Some(region)) = (shared.faults.refuse_region.lock().unwrap().clone(), &region) {
        if &refused == region {
            return (StatusCode::SERVICE_UNAVAILABLE, "region refused by the test proxy").into_response();
        }
    }
    if request.uri().path().ends_with("/operation/GetMetricData")
        && region.is_some()
        && *shared.faults.deny_metrics_region.lock().unwrap() == region
    {
        return (
            StatusCode::FORBIDDEN,
            [
                ("content-type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", "AccessDenied;Sender"),
            ],
            // An empty CBOR map: the code is the header's.
            vec![0xA0_u8],
        )
            .into_response();
    }
    // The emulator has no Compute Optimizer: every account here answers as one that has not
    // opted in (`tests/aws/metrics.rs` has a recorded-answer fake for one that has).
    if target_op == "ComputeOptimizerService.GetEC2InstanceRecommendations" {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0")],
            r#"{"__type":"OptInRequiredException","message":"The account is not opted in (test proxy)."}"#,
        )
            .into_response();
    }
    if request.uri().path().starts_with(crate::cbor::PREFIX) {
        return crate::cbor::translate(&shared.client, &shared.target, request).await;
    }
    let access_key = access_key_of(&request);
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let recorded = *shared.faults.recorded_fleet.lock().unwrap();
    let caller = access_key.map(|k| shared.faults.assumed.lock().unwrap().get(&k).cloned().unwrap_or(k));
    if let (Some(fleet), Some(key), Some(region)) = (recorded, &caller, &region) {
        if String::from_utf8_lossy(&body).contains("Action=DescribeInstances") {
            shared.faults.recorded_answers.fetch_add(1, Ordering::SeqCst);
            return (StatusCode::OK, [("content-type", "text/xml")], fleet.describe_instances(key, region))
                .into_response();
        }
        if target_op.ends_with(".Scan")
            && serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|v| v["TableName"] == "marqo-indexes")
        {
            shared.faults.recorded_answers.fetch_add(1, Ordering::SeqCst);
            return (
                StatusCode::OK,
                [("content-type", HeaderValue::from_static("application/x-amz-json-1.0"))],
                fleet.scan_registry(key, region),
            )
                .into_response();
        }
    }
    let mut dynamo_call = None;
    if let Some(operation) = target_op.strip_prefix("DynamoDB_20120810.") {
        let fields: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let text = |name: &str| fields[name].as_str().unwrap_or_default().to_owned();
        let writes = match operation {
            "BatchWriteItem" => fields["RequestItems"]
                .as_object()
                .map_or(0, |tables| tables.values().filter_map(|v| v.as_array()).map(Vec::len).sum()),
            "TransactWriteItems" => fields["TransactItems"].as_array().map_or(0, Vec::len),
            "PutItem" | "UpdateItem" => 1,
            _ => 0,
        };
        dynamo_call = Some(DynamoCall {
            operation: operation.to_owned(),
            table: text("TableName"),
            index: text("IndexName"),
            writes,
            reads: 0,
        });
    }
    let dynamo_write = [".PutItem", ".UpdateItem", ".DeleteItem", ".BatchWriteItem", ".TransactWriteItems"]
        .iter()
        .any(|op| target_op.ends_with(op));
    if dynamo_write
        && shared.faults.throttle_writes.load(Ordering::SeqCst)
        && shared.faults.throttled_bodies.lock().unwrap().insert(body.to_vec())
    {
        shared.faults.throttled.fetch_add(1, Ordering::SeqCst);
        let answer = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput (test proxy)"}"#;
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", HeaderValue::from_static("application/x-amz-json-1.0"))],
            answer,
        )
            .into_response();
    }
    if parts.method == axum::http::Method::PUT
        && let Some(key) = shared.faults.fail_puts_to.lock().unwrap().clone()
        && parts.uri.path().contains(&key)
    {
        let xml = "<Error><Code>InternalError</Code><Message>failed by the test proxy</Message></Error>";
        return (StatusCode::INTERNAL_SERVER_ERROR, [("content-type", "application/xml")], xml)
            .into_response();
    }
    if let Some(denied) = shared.faults.deny_account.lock().unwrap().clone() {
        let text = String::from_utf8_lossy(&body);
        if text.contains("Action=AssumeRole")
            && text.contains(&format!("arn%3Aaws%3Aiam%3A%3A{denied}%3Arole"))
        {
            let xml = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
                <Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole (test proxy)</Message></Error>\
                <RequestId>test</RequestId></ErrorResponse>";
            return (StatusCode::FORBIDDEN, [("content-type", "text/xml")], xml).into_response();
        }
    }
    if target_op.ends_with(".TransactWriteItems")
        && shared.faults.transactions_as_batches.load(Ordering::SeqCst)
    {
        return as_batches(&shared, &parts, &body).await;
    }
    if target_op.ends_with(".TransactWriteItems") && shared.faults.fail_transactions.load(Ordering::SeqCst) {
        let answer = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"failed by the test proxy"}"#;
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", HeaderValue::from_static("application/x-amz-json-1.0"))],
            answer,
        )
            .into_response();
    }
    if target_op.ends_with(".BatchWriteItem") {
        let remaining = shared.faults.unprocessed_calls.load(Ordering::SeqCst);
        if remaining > 0 {
            shared.faults.unprocessed_calls.store(remaining - 1, Ordering::SeqCst);
            shared.faults.faulted_batches.fetch_add(1, Ordering::SeqCst);
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let answer = serde_json::json!({ "UnprocessedItems": request["RequestItems"] });
            return (
                StatusCode::OK,
                [("content-type", HeaderValue::from_static("application/x-amz-json-1.0"))],
                answer.to_string(),
            )
                .into_response();
        }
        shared.faults.forwarded_batches.fetch_add(1, Ordering::SeqCst);
    }
    let url = format!("{}{}", shared.target, parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut outgoing = shared.client.request(parts.method.clone(), url).body(body.clone());
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" && name != "transfer-encoding" {
            outgoing = outgoing.header(name, value);
        }
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let bytes = answer.bytes().await.unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            if text.contains("Action=AssumeRole") {
                let account = text.split("arn%3Aaws%3Aiam%3A%3A").nth(1).and_then(|r| r.split("%3A").next());
                let answer = String::from_utf8_lossy(&bytes);
                let key = answer.split("<AccessKeyId>").nth(1).and_then(|r| r.split('<').next());
                if let (Some(account), Some(key)) = (account, key) {
                    shared.faults.assumed.lock().unwrap().insert(key.to_owned(), account.to_owned());
                }
            }
            if let Some(mut call) = dynamo_call {
                let fields: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                call.reads = match call.operation.as_str() {
                    "Query" | "Scan" => usize::try_from(fields["Count"].as_u64().unwrap_or(0)).unwrap_or(0),
                    "GetItem" => usize::from(fields.get("Item").is_some()),
                    _ => 0,
                };
                shared.faults.dynamo_calls.lock().unwrap().push(call);
            }
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" && name != "connection" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// A TransactWriteItems of puts sent to the emulator as BatchWriteItem calls of 25 items,
/// answered as DynamoDB answers a transaction that went through.
async fn as_batches(shared: &Shared, parts: &axum::http::request::Parts, body: &[u8]) -> Response {
    let request: serde_json::Value = serde_json::from_slice(body).unwrap();
    let puts: Vec<(String, serde_json::Value)> = request["TransactItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| (op["Put"]["TableName"].as_str().unwrap().to_owned(), op["Put"]["Item"].clone()))
        .collect();
    for chunk in puts.chunks(25) {
        let mut tables: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
        for (table, item) in chunk {
            let requests = tables.entry(table.clone()).or_insert_with(|| serde_json::json!([]));
            requests.as_array_mut().unwrap().push(serde_json::json!({ "PutRequest": { "Item": item } }));
        }
        let batch = serde_json::json!({ "RequestItems": tables }).to_string();
        let mut outgoing = shared.client.post(format!("{}/", shared.target)).body(batch);
        for (name, value) in &parts.headers {
            match name.as_str() {
                "host" | "content-length" | "transfer-encoding" => {}
                "x-amz-target" => outgoing = outgoing.header(name, "DynamoDB_20120810.BatchWriteItem"),
                _ => outgoing = outgoing.header(name, value),
            }
        }
        let answer = outgoing.send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap_or_default());
    }
    shared.faults.dynamo_calls.lock().unwrap().push(DynamoCall {
        operation: "TransactWriteItems".into(),
        table: String::new(),
        index: String::new(),
        writes: puts.len(),
        reads: 0,
    });
    (StatusCode::OK, [("content-type", HeaderValue::from_static("application/x-amz-json-1.0"))], "{}")
        .into_response()
}
