use crate::harness::{TestApp, sample};

const SCRIPT: &str = "<script>alert(1)</script>";
const ATTR: &str = "\"><img src=x onerror=alert(2)>";

/// The sample with hostile text in every field a page prints.
fn hostile() -> polo_core::model::Everything {
    let mut e = sample();
    let index_id = e.indexes[0].index_id.clone();
    let i = &mut e.instances[0];
    i.id = "i-00000000000000000".into();
    i.name = Some(SCRIPT.into());
    i.owner = Some(ATTR.into());
    i.customer = Some(SCRIPT.into());
    i.index = Some(index_id.into());
    i.az = ATTR.into();
    i.tags.insert(SCRIPT.into(), ATTR.into());
    i.tags.insert("Name".into(), SCRIPT.into());
    let x = &mut e.indexes[0];
    x.name = SCRIPT.into();
    x.customer = ATTR.into();
    x.marqo_version = SCRIPT.into();
    e.accounts[0].documents[0].status = polo_core::model::SyncStatus::Error;
    e.accounts[0].documents[0].error = Some(SCRIPT.into());
    e
}

fn assert_escaped(path: &str, body: &str) {
    assert!(!body.contains("<script>alert"), "{path}: raw script tag");
    assert!(!body.contains("<img src=x"), "{path}: raw attribute break-out");
    assert!(!body.contains("onerror=alert(2)>"), "{path}: raw attribute break-out");
}

#[tokio::test]
async fn hostile_values_are_escaped_on_every_page() {
    let e = hostile();
    let index_id = e.indexes[0].index_id.clone();
    let app = TestApp::spawn(e).await;
    let paths = [
        "/".to_owned(),
        "/instances".into(),
        "/instances?sort=id".into(),
        format!("/instances?q={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        format!("/instances?owner={}", "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E"),
        "/instances/i-00000000000000000".into(),
        "/indexes".into(),
        format!("/indexes?customer={}", "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E"),
        format!("/indexes/{index_id}"),
        "/instances?sort=%3Cscript%3E".into(),
        "/%3Cscript%3Ealert(1)%3C/script%3E".into(),
    ];
    for path in paths {
        let answer = app.get(&path).await;
        assert!(
            answer.status == 200 || answer.status == 400 || answer.status == 404,
            "{path}: {}",
            answer.status
        );
        assert_escaped(&path, &answer.body);
    }
    let detail = app.get("/instances/i-00000000000000000").await.body;
    assert!(detail.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "shown, escaped");
    let overview = app.get("/").await.body;
    assert!(overview.contains("stale"), "the failed document marks the account stale");
    let json = app.json("/instances/i-00000000000000000?format=json").await;
    assert_eq!(json["name"], SCRIPT, "JSON carries the value as it is");
}
