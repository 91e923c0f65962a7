//! API Gateway events made safe to turn into requests. `lambda_http` panics or fails the
//! invocation (API Gateway then answers 500) on a raw `"`, `<`, space or control byte in the
//! path or query, a `Host` that is not a host, a body marked base64 that is not, or
//! authorizer claims that are not strings. Here such an event is repaired where the meaning
//! is plain (characters a URI may not hold are percent-encoded, as a browser would send
//! them; non-string claims are made strings, or dropped where they name the user) and
//! refused with a 400 naming the problem where it is not.

use base64::Engine as _;
use serde_json::{Map, Value};

/// Why an event cannot become a request: the part of it, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub param: &'static str,
    pub message: String,
}

/// The payload version of an API Gateway event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    /// HTTP API (payload 2.0).
    V2,
    /// REST API or HTTP API payload 1.0.
    V1,
}

impl Payload {
    /// Which payload `event` is.
    pub(crate) fn of(event: &Value) -> Payload {
        if event.get("version").and_then(Value::as_str) == Some("2.0") { Payload::V2 } else { Payload::V1 }
    }
}

/// How a part of the event's URI arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPart {
    /// A query string, as the client sent it (its `%` escapes kept).
    Query,
    /// A path as the client sent it (REST APIs): its `%` escapes kept.
    EncodedPath,
    /// A path API Gateway already decoded (HTTP APIs, both payload versions): a `%` in it
    /// is a literal percent sign and is escaped too, so it is not decoded twice.
    DecodedPath,
}

/// Whether `b` may stand as it is in a URI path (`pchar`, `/`) or a query (also `?`), per
/// RFC 3986.
fn allowed(b: u8, part: UriPart) -> bool {
    b.is_ascii_alphanumeric()
        || b"-._~!$&'()*+,;=:@/".contains(&b)
        || (b == b'%' && part != UriPart::DecodedPath)
        || (b == b'?' && part == UriPart::Query)
}

/// `text` with every byte a URI may not hold percent-encoded.
pub fn encode_uri_part(text: &str, part: UriPart) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if allowed(b, part) {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// A host `lambda_http` can build a URL with (it unwraps `Url::parse`).
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        && host.parse::<axum::http::uri::Authority>().is_ok()
        && url::Url::parse(&format!("https://{host}/")).is_ok()
}

/// Makes every claim a string: numbers and booleans as their text, lists and objects as
/// JSON; `email` and `sub`, which name the user, are dropped unless they are strings.
fn stringify_claims(claims: &mut Map<String, Value>) {
    let keys: Vec<String> = claims.keys().cloned().collect();
    for key in keys {
        let Some(value) = claims.get(&key) else { continue };
        let text = match value {
            Value::String(_) => continue,
            Value::Null => None,
            _ if key == "email" || key == "sub" => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        };
        match text {
            Some(t) => {
                claims.insert(key, Value::String(t));
            }
            None => {
                claims.remove(&key);
            }
        }
    }
}

/// Makes a number or boolean a string; false when `value` is neither those nor a string.
fn stringify(value: &mut Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Number(_) | Value::Bool(_) => {
            *value = Value::String(value.to_string());
            true
        }
        _ => false,
    }
}

/// The map at `key` (headers, query parameters), each entry checked by `entry`.
fn each_entry(
    event: &mut Value,
    key: &str,
    name: &'static str,
    entry: impl Fn(&mut Value) -> Result<(), &'static str>,
) -> Result<(), Rejected> {
    match event.get_mut(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) => {
            for (k, v) in map.iter_mut() {
                entry(v).map_err(|what| Rejected { param: name, message: format!("{name} {k:?} {what}") })?;
            }
            Ok(())
        }
        Some(_) => Err(Rejected { param: name, message: format!("{name} are not a map") }),
    }
}

/// A map of strings: numbers and booleans become strings, anything else is refused.
fn string_map(event: &mut Value, key: &str, name: &'static str) -> Result<(), Rejected> {
    each_entry(event, key, name, |v| if stringify(v) { Ok(()) } else { Err("is not a string") })
}

/// A REST (payload 1.0) multi-value map: each entry a list of strings (numbers and booleans
/// made strings); an empty list is no value and is dropped; anything else is refused.
fn multi_value_map(event: &mut Value, key: &str, name: &'static str) -> Result<(), Rejected> {
    // An empty list means no value (`lambda_http` would index its first element).
    if let Some(Value::Object(map)) = event.get_mut(key) {
        map.retain(|_, v| !v.as_array().is_some_and(Vec::is_empty));
    }
    each_entry(event, key, name, |v| {
        let Value::Array(values) = v else { return Err("is not a list") };
        if values.iter_mut().all(stringify) { Ok(()) } else { Err("holds a value that is not a string") }
    })
}

/// Repairs `event` in place, or says why it cannot be a request.
pub(crate) fn sanitize(event: &mut Value) -> Result<Payload, Rejected> {
    if !event.is_object() {
        return Err(Rejected { param: "event", message: "the event is not an API Gateway request".into() });
    }
    let payload = Payload::of(event);
    // HTTP APIs (a `version` field, either payload) hand over the path decoded; REST APIs
    // (no `version`) as the client sent it.
    let http_api = event.get("version").is_some();
    let path_part = if http_api { UriPart::DecodedPath } else { UriPart::EncodedPath };
    let (path_key, query_key) = match payload {
        Payload::V2 => ("rawPath", Some("rawQueryString")),
        Payload::V1 => ("path", None),
    };
    for (key, part) in [(Some(path_key), path_part), (query_key, UriPart::Query)] {
        let Some(key) = key else { continue };
        if let Some(Value::String(text)) = event.get(key) {
            let encoded = encode_uri_part(text, part);
            if &encoded != text {
                event[key] = Value::String(encoded);
            }
        }
    }
    if payload == Payload::V2
        && let Some(Value::String(path)) = event.pointer("/requestContext/http/path").cloned()
    {
        event["requestContext"]["http"]["path"] = Value::String(encode_uri_part(&path, path_part));
    }
    // A request path is absolute: API Gateway never sends another, and `lambda_http` cannot
    // make a URI of one.
    for pointer in ["/rawPath", "/path", "/requestContext/http/path"] {
        if let Some(Value::String(path)) = event.pointer(pointer)
            && !path.starts_with('/')
        {
            return Err(Rejected {
                param: "path",
                message: format!("the path {path:?} does not start with /"),
            });
        }
    }
    string_map(event, "headers", "headers")?;
    string_map(event, "queryStringParameters", "query")?;
    string_map(event, "pathParameters", "path parameters")?;
    string_map(event, "stageVariables", "stage variables")?;
    multi_value_map(event, "multiValueHeaders", "headers")?;
    multi_value_map(event, "multiValueQueryStringParameters", "query")?;
    let host = event
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("host")))
        .and_then(|(_, v)| v.as_str().map(str::to_owned));
    if let Some(host) = host
        && !valid_host(&host)
    {
        return Err(Rejected {
            param: "host",
            message: format!("the Host header {host:?} is not a host name"),
        });
    }
    // `X-Forwarded-Proto` becomes the URL's scheme: anything but http or https is dropped.
    if let Some(Value::Object(headers)) = event.get_mut("headers") {
        headers.retain(|k, v| {
            !k.eq_ignore_ascii_case("x-forwarded-proto")
                || v.as_str()
                    .is_some_and(|p| p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https"))
        });
    }
    if let Some(Value::Object(headers)) = event.get_mut("multiValueHeaders") {
        headers.retain(|k, _| !k.eq_ignore_ascii_case("x-forwarded-proto"));
    }
    if let Some(Value::String(domain)) = event.pointer("/requestContext/domainName")
        && !valid_host(domain)
    {
        return Err(Rejected {
            param: "host",
            message: format!("the domain name {domain:?} is not a host name"),
        });
    }
    if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true)
        && let Some(Value::String(body)) = event.get("body")
        && base64::engine::general_purpose::STANDARD.decode(body).is_err()
    {
        return Err(Rejected {
            param: "body",
            message: "the body is marked base64 but is not base64".into(),
        });
    }
    for pointer in ["/requestContext/authorizer/jwt/claims", "/requestContext/authorizer/claims"] {
        if let Some(Value::Object(claims)) = event.pointer_mut(pointer) {
            stringify_claims(claims);
        }
    }
    if let Some(scopes) = event.pointer_mut("/requestContext/authorizer/jwt/scopes")
        && !(scopes.is_null() || scopes.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
    {
        *scopes = Value::Null;
    }
    Ok(payload)
}

/// A 400 answer in the shape API Gateway expects of either payload, with the JSON error
/// envelope of every other 400.
pub(crate) fn rejection_response(rejected: &Rejected) -> Value {
    let body = serde_json::json!({
        "error": { "status": 400, "message": rejected.message, "param": rejected.param }
    });
    serde_json::json!({
        "statusCode": 400,
        "headers": {
            "content-type": "application/json",
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
            "content-security-policy": crate::response::security::CONTENT_SECURITY_POLICY,
        },
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2(query: &str) -> Value {
        json!({ "version": "2.0", "rawPath": "/instances", "rawQueryString": query,
                "headers": { "host": "abc.execute-api.us-east-1.amazonaws.com" },
                "requestContext": { "http": { "method": "GET", "path": "/instances" } } })
    }

    #[test]
    fn an_empty_multi_value_list_is_no_value_and_a_nested_one_is_refused() {
        let mut event = json!({ "path": "/indexes", "httpMethod": "GET",
            "multiValueQueryStringParameters": { "customer": [], "format": ["json", 1] },
            "multiValueHeaders": { "Accept": [] } });
        assert_eq!(sanitize(&mut event), Ok(Payload::V1));
        assert_eq!(event["multiValueQueryStringParameters"], json!({ "format": ["json", "1"] }));
        assert_eq!(event["multiValueHeaders"], json!({}));
        let mut nested = json!({ "path": "/", "multiValueQueryStringParameters": { "q": [["x"]] } });
        assert_eq!(sanitize(&mut nested).unwrap_err().param, "query");
    }

    #[test]
    fn characters_a_uri_may_not_hold_are_percent_encoded() {
        for (raw, want) in [
            (r#"q="x"&format=json"#, "q=%22x%22&format=json"),
            ("q=<b>", "q=%3Cb%3E"),
            ("q=a b", "q=a%20b"),
            ("q=\u{1}", "q=%01"),
            ("q=caf\u{e9}", "q=caf%C3%A9"),
            ("q=a%20b&page=2", "q=a%20b&page=2"),
        ] {
            let mut event = v2(raw);
            assert_eq!(sanitize(&mut event), Ok(Payload::V2));
            assert_eq!(event["rawQueryString"], want, "{raw:?}");
        }
    }

    #[test]
    fn a_percent_in_an_http_api_path_is_literal_but_kept_in_a_rest_path() {
        let mut event = v2("");
        event["rawPath"] = json!("/instances/a%41");
        sanitize(&mut event).unwrap();
        assert_eq!(event["rawPath"], "/instances/a%2541", "HTTP API paths arrive decoded");
        let mut rest = json!({ "path": "/instances/a%41", "httpMethod": "GET", "headers": {} });
        sanitize(&mut rest).unwrap();
        assert_eq!(rest["path"], "/instances/a%41", "REST paths arrive as sent");
    }

    #[test]
    fn a_bad_host_or_body_is_refused_by_name() {
        for host in ["example.com:99999", "h:x", "1.2.3.999"] {
            let mut event = v2("");
            event["headers"]["host"] = json!(host);
            assert_eq!(sanitize(&mut event).unwrap_err().param, "host", "{host}");
        }
        let mut event = v2("");
        event["headers"]["x-forwarded-proto"] = json!("gopher:");
        sanitize(&mut event).unwrap();
        assert!(event["headers"].get("x-forwarded-proto").is_none());
        let mut event = v2("");
        event["headers"]["host"] = json!("evil host\r\n");
        assert_eq!(sanitize(&mut event).unwrap_err().param, "host");
        let mut event = v2("");
        event["isBase64Encoded"] = json!(true);
        event["body"] = json!("not base64!!");
        assert_eq!(sanitize(&mut event).unwrap_err().param, "body");
        assert_eq!(sanitize(&mut json!([1, 2, 3])).unwrap_err().param, "event");
    }

    #[test]
    fn claims_become_strings_and_odd_user_claims_are_dropped() {
        let mut event = v2("");
        event["requestContext"]["authorizer"] = json!({ "jwt": { "claims": {
            "email": 42, "sub": "u-1", "email_verified": true, "groups": ["a", "b"], "nothing": null
        }, "scopes": null } });
        sanitize(&mut event).unwrap();
        let claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
        assert_eq!(claims, &json!({ "sub": "u-1", "email_verified": "true", "groups": "[\"a\",\"b\"]" }));
    }
}

#[cfg(test)]
mod fuzz {
    use lambda_http::request::LambdaRequest;
    use proptest::prelude::*;
    use serde_json::Value;

    use super::sanitize;

    /// The gate's promise: an event it lets through becomes a request without a panic in
    /// `lambda_http`; one it refuses names the part that is wrong.
    fn through_the_gate(mut event: Value) -> Result<(), TestCaseError> {
        match sanitize(&mut event) {
            Ok(_) => {
                if let Ok(request) = serde_json::from_value::<LambdaRequest>(event) {
                    let converted = std::panic::catch_unwind(|| drop(lambda_http::Request::from(request)));
                    prop_assert!(converted.is_ok(), "a sanitized event panicked lambda_http");
                }
            }
            Err(rejected) => prop_assert!(!rejected.param.is_empty() && !rejected.message.is_empty()),
        }
        Ok(())
    }

    /// The seed event with structural edits (still JSON), or with byte edits where those
    /// still read as JSON (else the seed itself).
    fn edited(seed: &str) -> impl Strategy<Value = Value> {
        let bytes = polo_fuzz::seed(seed);
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let fallback = value.clone();
        prop_oneof![
            polo_fuzz::mutated_json(value, KEYS),
            polo_fuzz::mutated(bytes)
                .prop_map(move |b| serde_json::from_slice(&b).unwrap_or_else(|_| fallback.clone())),
        ]
    }

    const KEYS: &[&str] = &[
        "version",
        "2.0",
        "rawPath",
        "rawQueryString",
        "headers",
        "host",
        "cookies",
        "requestContext",
        "http",
        "method",
        "path",
        "GET",
        "authorizer",
        "jwt",
        "claims",
        "email",
        "sub",
        "body",
        "isBase64Encoded",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "httpMethod",
        "multiValueHeaders",
        "Host",
        "/instances",
        "source",
        "detail-type",
        "aws.events",
    ];

    proptest! {
        #![proptest_config(polo_fuzz::config(256))]

        #[test]
        fn fuzz_event_v2_edited(event in edited("api_gateway_v2.json")) {
            through_the_gate(event)?;
        }

        #[test]
        fn fuzz_event_v1_edited(event in edited("api_gateway_v1.json")) {
            through_the_gate(event)?;
        }

        #[test]
        fn fuzz_event_eventbridge_edited(event in edited("eventbridge.json")) {
            through_the_gate(event)?;
        }

        #[test]
        fn fuzz_event_any_json(event in polo_fuzz::json_value(KEYS)) {
            through_the_gate(event)?;
        }

        #[test]
        fn fuzz_event_v2_any_strings(path in any::<String>(), query in any::<String>(), host in any::<String>(),
                                     cookie in any::<String>(), base64 in any::<bool>(), body in any::<String>()) {
            let mut event: Value = serde_json::from_slice(&polo_fuzz::seed("api_gateway_v2.json")).map_err(|e| TestCaseError::fail(e.to_string()))?;
            event["rawPath"] = Value::String(path.clone());
            event["requestContext"]["http"]["path"] = Value::String(path);
            event["rawQueryString"] = Value::String(query);
            event["headers"]["host"] = Value::String(host);
            event["cookies"] = serde_json::json!([cookie]);
            event["isBase64Encoded"] = Value::Bool(base64);
            event["body"] = Value::String(body);
            through_the_gate(event)?;
        }
    }
}
