use std::cmp::Ordering;
use std::str::FromStr;

use polo_core::listing::{Column, IndexColumn, InstanceColumn};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::harness::{TestApp, sample, select_counts};

/// Every item of a filtered list, across pages of 500.
async fn all_items(app: &TestApp, table: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for page in 1.. {
        let body = app.json(&format!("/{table}?{query}&format=json&per_page=500&page={page}")).await;
        let batch = body["items"].as_array().unwrap().clone();
        let total = body["total"].as_u64().unwrap() as usize;
        items.extend(batch);
        if items.len() >= total {
            break;
        }
    }
    items
}

fn field<'a>(item: &'a Value, key: &str) -> &'a Value {
    item.get(key).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn every_instance_filter_selects_exactly_its_rows() {
    let app = TestApp::sample().await;
    let everything = sample();
    let pick = |f: &dyn Fn(&polo_core::model::Instance) -> Option<String>| {
        everything.instances.iter().find_map(f).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("account", "staging".into(), "account"),
        ("region", "eu-west-1".into(), "region"),
        ("state", "stopped".into(), "state"),
        ("type", "r6i.large".into(), "type"),
        ("owner", pick(&|i| i.owner.as_deref().map(str::to_owned)), "owner"),
        ("index", pick(&|i| i.index.as_deref().map(str::to_owned)), "index"),
        ("customer", pick(&|i| i.customer.as_deref().map(str::to_owned)), "customer"),
    ];
    for (param, value, key) in cases {
        let items = all_items(&app, "instances", &format!("{param}={value}")).await;
        let expected = everything
            .instances
            .iter()
            .filter(|i| {
                let v = serde_json::to_value(i).unwrap();
                v[key].as_str() == Some(value.as_str())
            })
            .count();
        assert!(expected > 0, "{param}={value} should match something in the sample");
        assert_eq!(items.len(), expected, "{param}={value}");
        assert!(items.iter().all(|i| i[key].as_str() == Some(value.as_str())), "{param}={value}");
    }
    let no_owner = all_items(&app, "instances", "owner=(none)").await;
    assert_eq!(no_owner.len(), everything.instances.iter().filter(|i| i.owner.is_none()).count());
    assert!(!no_owner.is_empty() && no_owner.iter().all(|i| i["owner"].is_null()));
    let either = all_items(&app, "instances", "state=stopped,terminated").await;
    assert_eq!(
        either.len(),
        everything.instances.iter().filter(|i| matches!(i.state.as_str(), "stopped" | "terminated")).count()
    );
    let both = all_items(&app, "instances", "account=prod&state=running").await;
    assert!(both.iter().all(|i| i["account"] == "prod" && i["state"] == "running"));
    let none = app.json("/instances?account=nosuch&format=json").await;
    assert_eq!((none["total"].as_u64(), none["items"].as_array().unwrap().len()), (Some(0), 0));
}

#[tokio::test]
async fn free_text_searches_every_field_and_tag() {
    let app = TestApp::sample().await;
    let everything = sample();
    let target = &everything.instances[7];
    let by_id = all_items(&app, "instances", &format!("q={}", target.id.to_uppercase())).await;
    assert_eq!(by_id.len(), 1, "case-insensitive id search");
    let by_tag = all_items(&app, "instances", "q=experiment").await;
    assert!(by_tag.len() >= 3);
    let two_terms = all_items(&app, "instances", "q=staging+loadtest").await;
    assert_eq!(two_terms.len(), 2);
    let indexes = all_items(&app, "indexes", &format!("q={}", everything.indexes[0].name)).await;
    assert!(indexes.iter().any(|x| x["index_id"] == everything.indexes[0].index_id.as_str()));
}

#[tokio::test]
async fn every_index_filter_selects_exactly_its_rows() {
    let app = TestApp::sample().await;
    let everything = sample();
    let first = &everything.indexes[0];
    let cases = [
        ("account", first.account.clone(), "account"),
        ("region", first.region.clone(), "region"),
        ("status", "CREATING".to_owned(), "status"),
        ("type", first.inference_type.clone(), "inference_type"),
        ("index", first.index_id.clone(), "index_id"),
        ("customer", first.customer.clone(), "customer"),
    ];
    for (param, value, key) in cases {
        let items = all_items(&app, "indexes", &format!("{param}={value}")).await;
        let expected = everything
            .indexes
            .iter()
            .filter(|x| serde_json::to_value(x).unwrap()[key].as_str() == Some(value.as_str()))
            .count();
        assert!(expected > 0);
        assert_eq!(items.len(), expected, "{param}={value}");
        assert!(items.iter().all(|i| i[key].as_str() == Some(value.as_str())));
    }
}

/// The order the server promises for one column's JSON values.
fn compare(column: &str, a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => match (x.as_u64(), y.as_u64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.as_f64().partial_cmp(&y.as_f64()).unwrap(),
        },
        // Drift sorts by the month's impact, the sum of its drifts'.
        (Value::Array(x), Value::Array(y)) if column == "drift" => {
            let impact = |v: &[Value]| -> Decimal {
                v.iter().map(|d| Decimal::from_str(d["monthly_cost_impact"].as_str().unwrap()).unwrap()).sum()
            };
            impact(x).cmp(&impact(y))
        }
        (Value::Array(x), Value::Array(y)) => x.len().cmp(&y.len()),
        (Value::String(x), Value::String(y)) => match column {
            "hourly_cost" | "monthly_savings" => {
                Decimal::from_str(x).unwrap().cmp(&Decimal::from_str(y).unwrap())
            }
            "private_ip" => x.parse::<std::net::Ipv4Addr>().unwrap().cmp(&y.parse().unwrap()),
            "marqo_version" => {
                let key = |v: &str| v.split('.').map(|p| p.parse::<u64>().unwrap()).collect::<Vec<_>>();
                key(x).cmp(&key(y))
            }
            _ => x.cmp(y),
        },
        other => panic!("{column}: cannot compare {other:?}"),
    }
}

async fn check_sorts<C: Column>(app: &TestApp, table: &str, id_key: &str) {
    for column in C::ALL {
        let name = column.name();
        for descending in [false, true] {
            let sort = if descending { format!("-{name}") } else { name.to_owned() };
            let items = all_items(app, table, &format!("sort={sort}")).await;
            assert!(items.len() > 30);
            for pair in items.windows(2) {
                let ord = compare(name, field(&pair[0], name), field(&pair[1], name));
                let ord = if descending { ord.reverse() } else { ord };
                let ok = ord == Ordering::Less
                    || (ord == Ordering::Equal && pair[0][id_key].as_str() < pair[1][id_key].as_str());
                assert!(ok, "{table} sort={sort}: {} before {}", pair[0][id_key], pair[1][id_key]);
            }
        }
    }
}

#[tokio::test]
async fn instances_sort_both_ways_on_every_column() {
    let app = TestApp::sample().await;
    check_sorts::<InstanceColumn>(&app, "instances", "id").await;
}

#[tokio::test]
async fn indexes_sort_both_ways_on_every_column() {
    let app = TestApp::sample().await;
    check_sorts::<IndexColumn>(&app, "indexes", "index_id").await;
}

#[tokio::test]
async fn paging_edges() {
    let app = TestApp::sample().await;
    let total = sample().instances.len();
    let first = app.json("/instances?format=json").await;
    assert_eq!((first["page"].as_u64(), first["per_page"].as_u64()), (Some(1), Some(50)));
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert_eq!(first["total"].as_u64(), Some(total as u64));
    let last_page = total.div_ceil(50);
    let last = app.json(&format!("/instances?format=json&page={last_page}")).await;
    assert_eq!(last["items"].as_array().unwrap().len(), total - (last_page - 1) * 50);
    let past = app.json(&format!("/instances?format=json&page={}", last_page + 1)).await;
    assert!(past["items"].as_array().unwrap().is_empty());
    assert_eq!(past["total"].as_u64(), Some(total as u64));
    let huge = app.json("/instances?format=json&page=18446744073709551615&per_page=500").await;
    assert!(huge["items"].as_array().unwrap().is_empty());
    let one = app.json("/instances?format=json&per_page=1&page=2").await;
    assert_eq!(one["items"][0]["id"], first["items"][1]["id"]);
    let max = app.json("/instances?format=json&per_page=500").await;
    assert_eq!(max["items"].as_array().unwrap().len(), total.min(500));
    let html = app.get(&format!("/instances?page={}", last_page + 1)).await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains("is past the end"));
    let html = app.get("/instances?page=2").await.body;
    assert!(html.contains("Showing 51–100 of"));
    assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
}

#[tokio::test]
async fn csv_has_the_json_columns_and_every_filtered_row() {
    let app = TestApp::sample().await;
    let everything = sample();
    let csv = app.get("/instances?format=csv&state=running&sort=id").await.body;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,account,account_id,region,az,name,type,state,lifecycle,launch_time,state_since,private_ip,owner,index,customer,tags,hourly_cost"
    );
    let running = everything.instances.iter().filter(|i| i.state.as_str() == "running").count();
    assert_eq!(lines.count(), running, "CSV holds the whole filtered list, not one page");
    let one = &everything.instances[0];
    let detail = app.get(&format!("/instances/{}?format=csv", one.id)).await.body;
    let tags: Vec<String> = one.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert!(detail.contains(&tags.join(";")), "tags as key=value;key=value");
    let indexes = app.get("/indexes?format=csv").await.body;
    assert_eq!(indexes.lines().count(), everything.indexes.len() + 1);
}

#[tokio::test]
async fn facet_counts_describe_the_view_under_the_other_filters() {
    let app = TestApp::sample().await;
    let e = sample();
    let dev = e.instances.iter().filter(|i| i.account == "dev").count();
    let html = app.get("/instances?account=dev").await.body;
    let states = select_counts(&html, "state");
    assert_eq!(
        states.iter().map(|(_, n)| n).sum::<usize>(),
        dev,
        "state counts are of dev's instances: {states:?}"
    );
    let accounts = select_counts(&html, "account");
    assert_eq!(
        accounts.iter().map(|(_, n)| n).sum::<usize>(),
        e.instances.len(),
        "the account list ignores its own filter"
    );
    let running_dev =
        e.instances.iter().filter(|i| i.account == "dev" && i.state.as_str() == "running").count();
    let html = app.get("/instances?account=dev&state=running").await.body;
    let owners = select_counts(&html, "owner");
    assert_eq!(owners.iter().map(|(_, n)| n).sum::<usize>(), running_dev);
    let states = select_counts(&html, "state");
    assert_eq!(states.iter().map(|(_, n)| n).sum::<usize>(), dev, "state counts ignore the state filter");
    let everything = select_counts(&app.get("/instances").await.body, "state");
    assert_eq!(everything.iter().map(|(_, n)| n).sum::<usize>(), e.instances.len());
}

#[tokio::test]
async fn indexes_show_filter_and_sort_by_their_drift() {
    let app = TestApp::sample().await;
    // The sample has one zombie per account kind: the filter finds them, with their drift.
    let zombies = app.json("/indexes?format=json&drift=zombie&per_page=500").await;
    assert_eq!(zombies["total"], 3, "{zombies}");
    for item in zombies["items"].as_array().unwrap() {
        assert_eq!(item["status"], "DELETING");
        let kinds: Vec<&str> =
            item["drift"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"zombie"), "{item}");
        assert!(
            item["desired"]["storage"]["count"].as_u64().is_some() && item["actual"]["inference"].is_object()
        );
    }
    // Several kinds at once; and indexes without drift.
    let some = app.json("/indexes?format=json&drift=over-provisioned,type-drift&per_page=500").await;
    assert!(some["total"].as_u64().unwrap() >= 3);
    let clean = app.json("/indexes?format=json&drift=none&per_page=500").await;
    assert!(clean["items"].as_array().unwrap().iter().all(|i| i["drift"].as_array().unwrap().is_empty()));
    // Sorted by the month's impact, the most wasteful first.
    let by_drift = app.json("/indexes?format=json&sort=-drift&per_page=500").await;
    let impact = |i: &serde_json::Value| -> f64 {
        i["drift"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["monthly_cost_impact"].as_str().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let impacts: Vec<f64> = by_drift["items"].as_array().unwrap().iter().map(impact).collect();
    assert!(impacts.windows(2).all(|w| w[0] >= w[1] - 0.005), "{impacts:?}");
    assert!(impacts[0] > 0.0);
    // The page: a Drift column and a Drift filter with counts; CSV filters the same way.
    let page = app.get("/indexes?drift=zombie").await;
    assert!(page.body.contains("Drift / month"), "the column");
    assert!(page.body.contains("name=\"drift\""), "the filter");
    let csv = app.get("/indexes?format=csv&drift=zombie").await;
    assert_eq!(csv.body.lines().count(), 4);
    assert!(
        csv.body
            .lines()
            .next()
            .unwrap()
            .ends_with(",instances,drift_kinds,monthly_cost_impact,cpu_p95,monthly_savings")
    );
    assert!(csv.body.lines().skip(1).all(|l| l.contains("zombie")), "{}", csv.body);
    assert!(zombies["items"][0]["drift_kinds"].as_array().unwrap().iter().any(|k| k == "zombie"));
    assert!(zombies["items"][0]["monthly_cost_impact"].as_str().is_some());
}
