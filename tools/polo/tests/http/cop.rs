//! `/cop`, the findings on detail pages and the counts on `/`, over one Cop run on the sample.

use crate::harness::TestApp;

#[tokio::test]
async fn the_findings_table_filters_sorts_and_answers_json_and_csv() {
    let app = TestApp::sample_with_findings().await;
    let all = app.json("/cop?format=json&per_page=500").await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 10, "{total}");
    let first = &all["items"][0];
    for key in [
        "id",
        "rule",
        "severity",
        "resource_kind",
        "resource_id",
        "account",
        "region",
        "message",
        "first_seen",
        "last_seen",
        "last_notified",
        "resolved_at",
    ] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
    assert_eq!(first["severity"], "critical", "worst first");
    let orphans = app.json("/cop?format=json&rule=orphan-instance").await;
    assert_eq!(orphans["total"], 2);
    let open_critical = app.json("/cop?format=json&state=open&severity=critical").await;
    assert!(open_critical["items"].as_array().unwrap().iter().all(|f| f["severity"] == "critical"));
    let by_rule = app.json("/cop?format=json&sort=rule").await;
    let rules: Vec<&str> =
        by_rule["items"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.windows(2).all(|w| w[0] <= w[1]));
    let csv = app.get("/cop?format=csv").await;
    assert!(csv.body.starts_with("id,rule,severity,resource_kind,resource_id,account,region,message,first_seen,last_seen,last_notified,resolved_at,monthly_cost_impact,state,acknowledged_by,snoozed_until,exception,assignee\n"), "{}", csv.body);
    assert!(
        by_rule["items"].as_array().unwrap().iter().all(|f| f["state"] == "open"),
        "every sample finding is open"
    );
    // Drift findings are priced a month; the others leave the column empty.
    let drift = app.json("/cop?format=json&rule=fleet-over-provisioned").await;
    assert!(
        drift["items"][0]["monthly_cost_impact"].as_str().is_some_and(|m| m.parse::<f64>().unwrap() > 0.0),
        "{drift}"
    );
    assert!(orphans["items"][0]["monthly_cost_impact"].is_null());
    assert_eq!(csv.body.lines().count() as u64, total + 1);
    assert_eq!(
        app.get("/cop?rule=orphan-instance&status=x").await.status,
        400,
        "status is not a filter here"
    );
    let partial = app.client_get_htmx("/cop?severity=info").await;
    assert!(partial.starts_with("<div id=\"table-region\">"));
}

#[tokio::test]
async fn findings_show_on_their_resources_and_are_counted_on_the_overview() {
    let app = TestApp::sample_with_findings().await;
    let orphans = app.json("/cop?format=json&rule=orphan-instance").await;
    let id = orphans["items"][0]["resource_id"].as_str().unwrap().to_owned();
    let page = app.get(&format!("/instances/{id}")).await;
    assert!(page.body.contains("orphan-instance"), "the instance page lists its finding");
    let overview = app.get("/").await.body;
    assert!(overview.contains("id=\"open-findings\""));
    assert!(overview.contains("href=\"/cop?state=open&amp;severity=critical\""));
}

#[tokio::test]
async fn finding_selects_count_the_view_under_the_other_filters() {
    let app = TestApp::sample_with_findings().await;
    let all = app.json("/cop?format=json&per_page=500").await;
    let items = all["items"].as_array().unwrap();
    let critical = items.iter().filter(|f| f["severity"] == "critical").count();
    assert!(critical > 0 && critical < items.len(), "the sample has critical findings and others");
    let html = app.get("/cop?severity=critical").await.body;
    let rules = crate::harness::select_counts(&html, "rule");
    assert_eq!(
        rules.iter().map(|(_, n)| n).sum::<usize>(),
        critical,
        "rule counts are the critical ones: {rules:?}"
    );
    let severities = crate::harness::select_counts(&html, "severity");
    assert_eq!(
        severities.iter().map(|(_, n)| n).sum::<usize>(),
        items.len(),
        "the severity list ignores its own filter: {severities:?}"
    );
    for field in ["rule", "severity", "account", "state"] {
        assert!(!crate::harness::select_counts(&html, field).is_empty(), "{field} is a select with counts");
    }
    let orphan = crate::harness::select_counts(&app.get("/cop?rule=orphan-instance").await.body, "account");
    assert_eq!(orphan.iter().map(|(_, n)| n).sum::<usize>(), 2, "{orphan:?}");
}

#[tokio::test]
async fn findings_show_where_they_stand_and_filter_by_it() {
    use polo_core::model::{Exception, Finding, Handling, ResourceKind, Severity};
    let mut e = crate::harness::sample();
    let now = crate::harness::NOW;
    let finding = |id: &str, handling: Handling| Finding {
        id: id.into(),
        rule: "instance-idle".into(),
        severity: Severity::Info,
        resource_kind: ResourceKind::Instances,
        resource_id: format!("i-{id}"),
        account: "prod".into(),
        region: "us-east-1".into(),
        message: "idle".into(),
        first_seen: now - time::Duration::days(3),
        last_seen: now,
        last_notified: Some(now - time::Duration::days(1)),
        resolved_at: None,
        monthly_cost_impact: None,
        handling,
    };
    e.findings = vec![
        finding(
            "snoozed",
            Handling { snoozed_until: Some(now + time::Duration::days(7)), ..Handling::default() },
        ),
        // A snooze that has ended: open again.
        finding(
            "woke",
            Handling { snoozed_until: Some(now - time::Duration::hours(1)), ..Handling::default() },
        ),
        finding(
            "excepted",
            Handling {
                exception: Some(Exception {
                    reason: "standby".into(),
                    until: None,
                    by: "alice@example.com".into(),
                }),
                ..Handling::default()
            },
        ),
        finding(
            "acked",
            Handling {
                acknowledged_by: Some("bob@example.com".into()),
                acknowledged_at: Some(now),
                assignee: Some("carol@example.com".into()),
                ..Handling::default()
            },
        ),
    ];
    let app = TestApp::spawn(e).await;
    let state_of = |items: &serde_json::Value, id: &str| {
        items["items"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap()["state"].clone()
    };
    let all = app.json("/cop?format=json").await;
    assert_eq!(state_of(&all, "snoozed"), "snoozed");
    assert_eq!(state_of(&all, "woke"), "open", "a snooze past its instant has ended");
    assert_eq!(state_of(&all, "excepted"), "excepted");
    assert_eq!(state_of(&all, "acked"), "acknowledged");
    let snoozed = app.json("/cop?format=json&state=snoozed").await;
    assert_eq!(snoozed["total"], 1);
    assert_eq!(snoozed["items"][0]["snoozed_until"], "2026-12-01T12:00:00Z");
    let excepted = app.json("/cop?format=json&state=excepted").await;
    assert_eq!(excepted["items"][0]["exception"]["reason"], "standby");
    assert_eq!(excepted["items"][0]["exception"]["until"], serde_json::Value::Null, "for good");
    let mine = app.json("/cop?format=json&q=carol").await;
    assert_eq!(mine["total"], 1, "the assignee is searched");
    assert_eq!(mine["items"][0]["acknowledged_by"], "bob@example.com");
    let page = app.get("/cop?state=snoozed").await;
    assert!(page.body.contains(">snoozed<"), "the state column");
}

/// The local user's CSRF token in tests (`AppState::over`).
const TOKEN: &str = "dev-csrf-of-tests";

fn path(id: &str, action: &str) -> String {
    format!("/cop/{}/{action}", urlencoding(id))
}

fn urlencoding(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn an_operator_snoozes_a_finding_with_the_forms_token_and_it_stands_snoozed_until_its_end() {
    let app = TestApp::sample_with_findings().await;
    let all = app.json("/cop?format=json&rule=instance-idle&per_page=200").await;
    let id = all["items"][0]["id"].as_str().unwrap().to_owned();
    // The local user is an operator: each open finding has its forms, carrying the token.
    let page = app.get("/cop?rule=instance-idle").await;
    assert!(page.body.contains(&format!("data-actions=\"{id}\"")), "the Act forms");
    assert!(page.body.contains(&format!("name=\"csrf\" value=\"{TOKEN}\"")));
    // Refused: no token, a wrong one, an unknown action, a bad span. Nothing changes.
    assert_eq!(app.post_form(&path(&id, "snooze"), &[("for", "1d")], &[]).await.status, 403);
    let stale = app.post_form(&path(&id, "snooze"), &[("csrf", "stale"), ("for", "1d")], &[]).await;
    assert_eq!(stale.status, 403);
    assert!(stale.body.contains("CSRF token"), "{}", stale.body);
    assert_eq!(app.post_form(&path(&id, "shred"), &[("csrf", TOKEN)], &[]).await.status, 404);
    let bad = app.post_form(&path(&id, "snooze"), &[("csrf", TOKEN), ("for", "2w")], &[]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(app.post_form(&path("no-such", "ack"), &[("csrf", TOKEN)], &[]).await.status, 404);
    assert_eq!(app.json("/cop?format=json&state=snoozed").await["total"], 0, "nothing changed");
    // Without JavaScript: a redirect back to /cop.
    let done = app.post_form(&path(&id, "snooze"), &[("csrf", TOKEN), ("for", "1d")], &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.headers["location"], "/cop");
    let snoozed = app.json("/cop?format=json&state=snoozed").await;
    assert_eq!(snoozed["total"], 1);
    assert_eq!(snoozed["items"][0]["id"], id.as_str());
    assert_eq!(snoozed["items"][0]["snoozed_until"], "2026-11-25T12:00:00Z");
    // With htmx: the page reloads. JSON: the finding as it stands, and its audit entry.
    let htmx = app.post_form(&path(&id, "ack"), &[("csrf", TOKEN)], &[("hx-request", "true")]).await;
    assert_eq!((htmx.status, htmx.headers["hx-refresh"].to_str().unwrap()), (204, "true"));
    let json = app
        .post_form(
            &path(&id, "assign"),
            &[("csrf", TOKEN), ("to", "carol@example.com")],
            &[("accept", "application/json")],
        )
        .await;
    let json = json.json();
    assert_eq!(json["finding"]["assignee"], "carol@example.com");
    assert_eq!(json["state"], "snoozed", "still snoozed, now acknowledged and assigned too");
    assert_eq!(json["audit"]["by"], "dev@localhost");
    assert_eq!(json["audit"]["via"], "web");
    // Reopen, then acting on it again is refused as already open: 409.
    assert_eq!(app.post_form(&path(&id, "reopen"), &[("csrf", TOKEN)], &[]).await.status, 303);
    assert_eq!(app.post_form(&path(&id, "reopen"), &[("csrf", TOKEN)], &[]).await.status, 409);
    // Every action in the audit log, newest first; refused ones are not there.
    let audit = app.json("/audit?format=json&per_page=50").await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 4, "{audit}");
    for action in ["snooze", "ack", "assign", "reopen"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let snooze = app.json("/audit?format=json&action=snooze").await;
    assert_eq!(snooze["total"], 1);
    assert_eq!(snooze["items"][0]["before"], "open");
    assert_eq!(snooze["items"][0]["after"], "snoozed");
    assert_eq!(snooze["items"][0]["detail"], "until 2026-11-25T12:00:00Z");
    assert_eq!(snooze["items"][0]["finding_id"], id.as_str());
    let csv = app.get("/audit?format=csv").await;
    assert!(csv.body.starts_with("at,by,via,action,finding_id,before,after,detail\n"), "{}", csv.body);
    let page = app.get("/audit?via=web").await;
    assert!(
        page.body.contains("snoozed → open")
            || page.body.contains("snoozed &#8594; open")
            || page.body.contains("reopen")
    );
    // Where findings are read-only, nobody sees the forms.
    let read_only = TestApp::sample().await;
    assert!(!read_only.get("/cop").await.body.contains("data-actions="));
}

#[tokio::test]
async fn without_a_token_made_at_start_the_local_users_forms_are_refused() {
    let settings = polo_web::app::WebSettings { dev: true, ..polo_web::app::WebSettings::default() };
    let store = std::sync::Arc::new(polo_core::ports::MemoryFindings::default());
    let mut state = crate::harness::state_with(crate::harness::sample(), settings)
        .with_actions(store, std::sync::Arc::new(polo_core::ports::MemoryAudit::default()));
    state.dev_csrf = None;
    let app = TestApp::spawn_state(state).await;
    for token in ["", TOKEN, "unavailable"] {
        let refused =
            app.post_form(&path("instance-idle:instances:i-1", "ack"), &[("csrf", token)], &[]).await;
        assert_eq!(refused.status, 403, "{token:?}: {}", refused.body);
    }
}
