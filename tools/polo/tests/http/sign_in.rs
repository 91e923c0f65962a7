//! Browser sign-in and token validation against a test OpenID provider (discovery, keys and
//! a token endpoint that checks PKCE) served on a loopback port. The end-to-end sign-in
//! through a certified provider's own login form is in the browser suite.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use polo_core::FixedClock;
use polo_core::config::{AuthSettings, Config};
use polo_core::ports::LocalDataService;
use polo_web::AppState;
use polo_web::app::WebSettings;
use polo_web::auth::{Oidc, OidcSettings};
use serde_json::{Value, json};

use crate::harness::{NOW, sample};

const KEY: &[u8] = include_bytes!("fixtures/test-issuer-key.pem");
const FOREIGN_KEY: &[u8] = include_bytes!("fixtures/foreign-key.pem");
const CLIENT: &str = "polo-test";

#[derive(Default)]
struct Codes {
    /// code -> (ID token, PKCE challenge)
    issued: HashMap<String, (String, String)>,
}

struct Provider {
    issuer: String,
    codes: Arc<Mutex<Codes>>,
}

fn jwks() -> JwkSet {
    let mut jwk = Jwk::from_encoding_key(&EncodingKey::from_rsa_pem(KEY).unwrap(), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".into());
    JwkSet { keys: vec![jwk] }
}

async fn token_endpoint(
    State(codes): State<Arc<Mutex<Codes>>>,
    Form(form): Form<HashMap<String, String>>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    let bad = |e: &str| (axum::http::StatusCode::BAD_REQUEST, axum::Json(json!({ "error": e })));
    if form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || form.get("client_id").map(String::as_str) != Some(CLIENT)
    {
        return bad("invalid_request");
    }
    let Some((token, challenge)) = form.get("code").and_then(|c| codes.lock().unwrap().issued.remove(c))
    else {
        return bad("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let computed =
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
    if computed != challenge {
        return bad("invalid_grant");
    }
    (axum::http::StatusCode::OK, axum::Json(json!({ "id_token": token, "token_type": "Bearer" })))
}

impl Provider {
    async fn start() -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let codes = Arc::new(Mutex::new(Codes::default()));
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "end_session_endpoint": format!("{issuer}/session/end"),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(move || async move { axum::Json(discovery) }))
            .route("/jwks", get(|| async { axum::Json(jwks()) }))
            .route("/token", post(token_endpoint))
            .with_state(Arc::clone(&codes));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Provider { issuer, codes }
    }

    fn claims(&self) -> Value {
        let now = NOW.unix_timestamp();
        json!({ "iss": self.issuer, "aud": CLIENT, "sub": "u-1", "email": "ada@example.com",
                "email_verified": true, "iat": now, "nbf": now, "exp": now + 3600 })
    }

    /// Lets `code` be exchanged for `claims` with `nonce`, by the verifier of `challenge`.
    fn issue(&self, code: &str, claims: &Value, nonce: &str, challenge: &str) {
        let mut claims = claims.clone();
        claims["nonce"] = json!(nonce);
        self.codes
            .lock()
            .unwrap()
            .issued
            .insert(code.into(), (Provider::sign(&claims), challenge.to_owned()));
    }

    fn sign(claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(KEY).unwrap()).unwrap()
    }
}

struct Dashboard {
    base: String,
    client: reqwest::Client,
    /// The sessions the app keeps, to revoke one as `polo sessions revoke` does.
    sessions: Arc<dyn polo_core::ports::SessionStore>,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
    fn cookies(&self) -> Vec<&str> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect()
    }
}

impl Dashboard {
    /// The whole app, signing in at `issuer`, on plain `http://` as `polo serve` does.
    async fn start(issuer: &str) -> Dashboard {
        Dashboard::start_with(issuer, None, AuthSettings::default()).await
    }

    /// The whole app with `public_url` (else its own `http://` address) and `auth`.
    async fn start_with(issuer: &str, public_url: Option<&str>, auth: AuthSettings) -> Dashboard {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let oidc = Oidc::new(OidcSettings {
            issuer: issuer.to_owned(),
            client_id: CLIENT.to_owned(),
            client_secret: None,
            logout_endpoint: None,
            public_url: public_url.map_or_else(|| base.clone(), str::to_owned),
        })
        .unwrap();
        let data = Arc::new(LocalDataService::from_snapshot(sample()));
        let settings =
            WebSettings { dev: false, logout_url: Some("/auth/logout".into()), ..WebSettings::default() };
        let mut config = Config::bundled().unwrap();
        config.auth = auth;
        let state =
            AppState::over(data, config, Arc::new(FixedClock(NOW)), settings).unwrap().with_sign_in(oidc);
        let sessions = state.sessions.clone().unwrap();
        tokio::spawn(async move { axum::serve(listener, polo::app(state)).await.unwrap() });
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Dashboard { base, client, sessions }
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Reply {
        Dashboard::send(self.client.post(format!("{}{path}", self.base)).form(form), headers).await
    }

    /// Signs in through the whole flow with `claims` (the nonce added), returning the
    /// callback's answer.
    async fn sign_in(&self, provider: &Provider, claims: &Value, code: &str) -> Reply {
        let login = self.get("/auth/login?return_to=%2Finstances", &[]).await;
        let q = query_of(login.header("location"));
        provider.issue(code, claims, &q["nonce"], &q["code_challenge"]);
        self.get(
            &format!("/auth/callback?code={code}&state={}", q["state"]),
            &[("cookie", cookie_pair(login.cookies()[0]))],
        )
        .await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        Dashboard::send(self.client.get(format!("{}{path}", self.base)), headers).await
    }

    async fn send(mut request: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> Reply {
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Reply { status, headers, body: response.text().await.unwrap() }
    }
}

fn query_of(url: &str) -> HashMap<String, String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().into_owned().collect()
}

/// The `name=value` of a Set-Cookie line.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

#[tokio::test]
async fn a_browser_without_a_session_signs_in_and_returns_to_its_page() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;

    let first = app.get("/instances?state=running", &[("accept", "text/html")]).await;
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), "/auth/login?return_to=%2Finstances%3Fstate%3Drunning");
    assert!(!first.body.contains("i-"), "no data before identity");

    let login = app.get(first.header("location"), &[]).await;
    assert_eq!(login.status, 303);
    let authorize = login.header("location");
    assert!(authorize.starts_with(&format!("{}/authorize?", provider.issuer)), "{authorize}");
    let q = query_of(authorize);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], format!("{}/auth/callback", app.base));
    let flow_cookie = login.cookies()[0];
    assert!(flow_cookie.starts_with(&format!("polo_signin_{}=", q["state"])), "{flow_cookie}");
    assert!(flow_cookie.contains("HttpOnly") && flow_cookie.contains("SameSite=Lax"), "{flow_cookie}");

    provider.issue("code-1", &provider.claims(), &q["nonce"], &q["code_challenge"]);
    let callback = app
        .get(
            &format!("/auth/callback?code=code-1&state={}&iss={}", q["state"], provider.issuer),
            &[("cookie", cookie_pair(flow_cookie))],
        )
        .await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    assert_eq!(callback.header("location"), "/instances?state=running");
    let session = callback.cookies().into_iter().find(|c| c.starts_with("polo_session=")).unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    assert!(session.contains("Max-Age=43200"), "the session lasts auth.session_hours: {session}");
    let secret = cookie_pair(session).trim_start_matches("polo_session=");
    assert_eq!(secret.len(), 43, "only a random secret, never the token: {session}");
    assert!(
        callback
            .cookies()
            .iter()
            .any(|c| c.starts_with(&format!("polo_signin_{}=;", q["state"])) && c.contains("Max-Age=0"))
    );

    let page = app.get("/instances?state=running", &[("cookie", cookie_pair(session))]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ada@example.com"), "the signed-in user is shown");
    assert!(page.body.contains("action=\"/auth/logout\""), "the logout form");

    // The same code cannot be used twice (the provider refuses it: 502 naming the provider).
    let again = app
        .get(
            &format!("/auth/callback?code=code-1&state={}", q["state"]),
            &[("cookie", cookie_pair(flow_cookie))],
        )
        .await;
    assert_eq!(again.status, 502);

    // Sign-out is a POST carrying the session's CSRF token: a GET only offers the button, and
    // a POST without the token (another site's form) is refused.
    let offer = app.get("/auth/logout", &[("cookie", cookie_pair(session))]).await;
    assert_eq!(offer.status, 200);
    assert!(offer.body.contains("You are still signed in"), "{}", offer.body);
    let csrf = offer.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(page.body.contains(&format!("value=\"{csrf}\"")), "every page's logout form carries it");
    for forged in [vec![], vec![("csrf", "guess")]] {
        let refused = app.post("/auth/logout", &[("cookie", cookie_pair(session))], &forged).await;
        assert_eq!(refused.status, 403, "{forged:?}");
        assert!(refused.body.contains("CSRF"), "{}", refused.body);
    }
    assert_eq!(app.get("/instances", &[("cookie", cookie_pair(session))]).await.status, 200);

    // The session ends here, then at the provider, which sends the person back; the issuer
    // never sees the ID token.
    // The browser goes on to the issuer by a refresh, not a redirect: CSP's form-action
    // 'self' stops a form's redirect to another origin.
    let logout = app.post("/auth/logout", &[("cookie", cookie_pair(session))], &[("csrf", csrf)]).await;
    assert_eq!(logout.status, 200, "{}", logout.body);
    let refresh = logout.body.split("http-equiv=\"refresh\" content=\"0;url=").nth(1).unwrap();
    let at_issuer = refresh.split('"').next().unwrap().replace("&#38;", "&");
    let end = query_of(&at_issuer);
    assert!(at_issuer.starts_with(&format!("{}/session/end?", provider.issuer)), "{at_issuer}");
    assert_eq!(end["post_logout_redirect_uri"], format!("{}/auth/logout", app.base));
    assert_eq!(end["client_id"], CLIENT);
    assert!(!end.contains_key("id_token_hint"), "{end:?}");
    assert!(logout.cookies().iter().any(|c| c.starts_with("polo_session=;") && c.contains("Max-Age=0")));
    let back = app.get("/auth/logout", &[]).await;
    assert_eq!(back.status, 200);
    assert!(back.body.contains("You are signed out"));
    // The old cookie, kept by a copy of the browser, opens nothing.
    let old = app.get("/instances", &[("cookie", cookie_pair(session)), ("accept", "text/html")]).await;
    assert_eq!(old.status, 303);
    assert!(old.header("location").starts_with("/auth/login"));
}

#[tokio::test]
async fn an_id_token_over_4_kb_signs_in_with_a_small_cookie() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let mut claims = provider.claims();
    claims["cognito:groups"] =
        json!((0..300).map(|i| format!("team-{i:04}-search-indexes")).collect::<Vec<_>>());
    assert!(Provider::sign(&claims).len() > 8_000, "a corporate token with its groups");
    let callback = app.sign_in(&provider, &claims, "code-big").await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    let session = callback.cookies().into_iter().find(|c| c.starts_with("polo_session=")).unwrap();
    assert!(session.len() < 200, "{session}");
    let page = app.get("/instances", &[("cookie", cookie_pair(session))]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ada@example.com"));
}

#[tokio::test]
async fn a_revoked_session_is_refused_on_its_next_request() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let callback = app.sign_in(&provider, &provider.claims(), "code-r").await;
    let session = callback.cookies().into_iter().find(|c| c.starts_with("polo_session=")).unwrap();
    assert_eq!(app.get("/instances", &[("cookie", cookie_pair(session))]).await.status, 200);
    let live = app.sessions.list(NOW).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].user, "ada@example.com");
    assert!(app.sessions.revoke(&live[0].id, NOW).await.unwrap());
    let page = app.get("/instances", &[("cookie", cookie_pair(session)), ("accept", "text/html")]).await;
    assert_eq!(page.status, 303);
    let json = app.get("/instances?format=json", &[("cookie", cookie_pair(session))]).await;
    assert_eq!(json.status, 401);
}

#[tokio::test]
async fn only_the_allowed_groups_and_domains_enter_and_operators_are_named() {
    let provider = Provider::start().await;
    let auth = AuthSettings {
        allowed_groups: vec!["polo-viewers".into(), "polo-operators".into()],
        allowed_email_domains: vec!["example.com".into()],
        ..AuthSettings::default()
    };
    let app = Dashboard::start_with(&provider.issuer, None, auth).await;
    let with = |groups: &[&str], email: &str| {
        let mut c = provider.claims();
        c["cognito:groups"] = json!(groups);
        c["email"] = json!(email);
        c
    };
    // Outside the groups: 403 saying why, at sign-in and for a bearer token; no session.
    let outsider = with(&["staging-only"], "eve@example.com");
    let refused = app.sign_in(&provider, &outsider, "code-o").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("polo-viewers, polo-operators"), "{}", refused.body);
    assert!(refused.cookies().iter().all(|c| !c.starts_with("polo_session=")));
    let bearer = Provider::sign(&outsider);
    let json = app.get("/instances?format=json", &[("authorization", &format!("Bearer {bearer}"))]).await;
    assert_eq!(json.status, 403);
    assert!(!json.body.contains("i-"), "no data");
    // The right group at another domain, or an address the issuer has not verified (or does
    // not say it has: Entra ID lets people set their own).
    let elsewhere = Provider::sign(&with(&["polo-viewers"], "ada@evil.example"));
    let json = app.get("/instances?format=json", &[("authorization", &format!("Bearer {elsewhere}"))]).await;
    assert_eq!(json.status, 403);
    let mut unverified = with(&["polo-viewers"], "ada@example.com");
    unverified["email_verified"] = json!(false);
    let unverified = Provider::sign(&unverified);
    let json = app.get("/instances?format=json", &[("authorization", &format!("Bearer {unverified}"))]).await;
    assert_eq!(json.status, 403);
    let mut unsaid = with(&["polo-viewers"], "ada@example.com");
    unsaid.as_object_mut().unwrap().remove("email_verified");
    let unsaid = Provider::sign(&unsaid);
    let json = app.get("/instances?format=json", &[("authorization", &format!("Bearer {unsaid}"))]).await;
    assert_eq!(json.status, 403);
    // A viewer and an operator, each named in the header.
    for (groups, role) in [(["polo-viewers"], "viewer"), (["polo-operators"], "operator")] {
        let callback =
            app.sign_in(&provider, &with(&groups, "ada@example.com"), &format!("code-{role}")).await;
        assert_eq!(callback.status, 303, "{}", callback.body);
        let session = callback.cookies().into_iter().find(|c| c.starts_with("polo_session=")).unwrap();
        let page = app.get("/instances", &[("cookie", cookie_pair(session))]).await;
        assert!(page.body.contains(&format!(">{role}</span>")), "{role}");
    }
    // A viewer may not act on a finding, whatever the form carries.
    let viewer = Provider::sign(&with(&["polo-viewers"], "ada@example.com"));
    let refused = app
        .client
        .post(format!("{}/cop/f-1/ack", app.base))
        .header("authorization", format!("Bearer {viewer}"))
        .form(&[("csrf", "anything")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.text().await.unwrap().contains("is a viewer: only operators may act on findings"));
}

#[tokio::test]
async fn scripts_and_htmx_without_identity_get_401_not_a_sign_in_page() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let json = app.get("/instances?format=json", &[]).await;
    assert_eq!(json.status, 401);
    assert_eq!(serde_json::from_str::<Value>(&json.body).unwrap()["error"]["status"], 401);
    let csv = app.get("/instances", &[("accept", "text/csv")]).await;
    assert_eq!(csv.status, 401);
    let htmx = app
        .get(
            "/instances?page=2",
            &[("hx-request", "true"), ("hx-current-url", &format!("{}/instances?state=stopped", app.base))],
        )
        .await;
    assert_eq!(htmx.status, 401);
    assert_eq!(htmx.header("hx-redirect"), "/auth/login?return_to=%2Finstances%3Fstate%3Dstopped");

    let token = Provider::sign(&provider.claims());
    let ok = app.get("/instances?format=json", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn tokens_that_must_not_pass() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let good = provider.claims();
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        Provider::sign(&c)
    };
    let now = NOW.unix_timestamp();
    let valid = Provider::sign(&good);
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut forged_claims = good.clone();
    forged_claims["email"] = json!("mallory@example.com");
    let forged_payload = URL_SAFE_NO_PAD.encode(forged_claims.to_string());
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let foreign = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_rsa_pem(FOREIGN_KEY).unwrap()).unwrap()
    };
    let hmac_confusion = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(KEY)).unwrap()
    };
    let unknown_kid = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k9".into());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_rsa_pem(KEY).unwrap()).unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", format!("{head}.{forged_payload}.{signature}")),
        ("tampered signature", format!("{head}.{payload}.{}", signature.chars().rev().collect::<String>())),
        ("wrong audience", with("aud", json!("someone-else"))),
        ("wrong issuer", with("iss", json!("https://evil.example"))),
        ("expired", with("exp", json!(now - 3600))),
        ("not yet valid", with("nbf", json!(now + 3600))),
        ("no exp", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("exp");
            Provider::sign(&c)
        }),
        ("alg none", format!("{none_header}.{payload}.")),
        ("signed by another key", foreign),
        ("HS256 with the key as secret", hmac_confusion),
        ("unknown kid", unknown_kid),
        ("a Cognito access token", with("token_use", json!("access"))),
        ("a Keycloak refresh token", with("typ", json!("Refresh"))),
        ("an RFC 9068 access token", {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some("k1".into());
            header.typ = Some("at+jwt".into());
            jsonwebtoken::encode(&header, &good, &EncodingKey::from_rsa_pem(KEY).unwrap()).unwrap()
        }),
        ("not a JWT", "hello".to_owned()),
    ];
    for (what, token) in &cases {
        let reply = app.get("/instances?format=json", &[("authorization", &format!("Bearer {token}"))]).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        assert!(reply.body.contains("invalid token"), "{what}: {}", reply.body);
        assert!(!reply.body.contains("i-"), "{what}: no data");
        // The same token as a session cookie is no session: the browser signs in again.
        let page =
            app.get("/", &[("cookie", &format!("polo_session={token}")), ("accept", "text/html")]).await;
        assert_eq!(page.status, 303, "{what}");
    }
    // Claims of unexpected types do not break validation: email falls back to sub.
    let odd = with("email", json!(42));
    let reply = app.get("/?format=json", &[("authorization", &format!("Bearer {odd}"))]).await;
    assert_eq!(reply.status, 200);
    let reply = app.get("/instances?format=json", &[("authorization", &format!("Bearer {valid}"))]).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_sign_in_is_bound_to_the_browser_and_the_nonce_that_started_it() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let login = app.get("/auth/login?return_to=/indexes", &[]).await;
    let q = query_of(login.header("location"));
    let flow_cookie = cookie_pair(login.cookies()[0]).to_owned();

    // Another browser's state (no cookie for it here), or no cookie at all.
    let other = app.get("/auth/login", &[]).await;
    let other_state = query_of(other.header("location"))["state"].clone();
    let foreign =
        app.get(&format!("/auth/callback?code=x&state={other_state}"), &[("cookie", &flow_cookie)]).await;
    assert_eq!(foreign.status, 400);
    assert!(foreign.body.contains("state"), "{}", foreign.body);
    let bare = app.get(&format!("/auth/callback?code=x&state={}", q["state"]), &[]).await;
    assert_eq!(bare.status, 400);

    // A token whose nonce is not this sign-in's.
    provider.issue("code-n", &provider.claims(), "replayed-nonce", &q["code_challenge"]);
    let replay = app
        .get(&format!("/auth/callback?code=code-n&state={}", q["state"]), &[("cookie", &flow_cookie)])
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(replay.cookies().iter().all(|c| !c.starts_with("polo_session=")));

    // The provider refusing: 401 saying so.
    let refused = app
        .get(
            &format!("/auth/callback?error=access_denied&error_description=no&state={}", q["state"]),
            &[("cookie", &flow_cookie)],
        )
        .await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("access_denied"));

    // An answer claiming to come from another issuer (RFC 9207 `iss`).
    let mixed = app
        .get(
            &format!("/auth/callback?code=x&state={}&iss=https%3A%2F%2Fevil.example", q["state"]),
            &[("cookie", &flow_cookie)],
        )
        .await;
    assert_eq!(mixed.status, 400);
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    for bad in [
        "https://evil.example/",
        "//evil.example/x",
        "/%5Cevil.example",
        "evil.example",
        "javascript:alert(1)",
        "/x%0d%0aSet-Cookie:%20a=b",
    ] {
        let reply = app.get(&format!("/auth/login?return_to={bad}"), &[("accept", "application/json")]).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(
            serde_json::from_str::<Value>(&reply.body).unwrap()["error"]["param"],
            "return_to",
            "{bad}"
        );
    }
    let unknown = app.get("/auth/login?next=/", &[]).await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn unfinished_sign_ins_do_not_pile_up_cookies() {
    let provider = Provider::start().await;
    let app = Dashboard::start(&provider.issuer).await;
    let held: Vec<String> = (0..4).map(|n| format!("polo_signin_s{n}=v")).collect();
    let login = app.get("/auth/login", &[("cookie", &held[..3].join("; "))]).await;
    assert_eq!(login.cookies().len(), 1, "a few tabs signing in together keep theirs");
    let login = app.get("/auth/login", &[("cookie", &held.join("; "))]).await;
    let cleared: Vec<&str> = login.cookies().into_iter().filter(|c| c.contains("Max-Age=0")).collect();
    assert_eq!(cleared.len(), 4, "{:?}", login.cookies());
    assert_eq!(login.cookies().len(), 5, "the older ones go, the new one is set");
}

#[tokio::test]
async fn behind_https_cookies_are_host_only_and_the_callback_is_the_public_url() {
    let provider = Provider::start().await;
    let app =
        Dashboard::start_with(&provider.issuer, Some("https://polo.example.com"), AuthSettings::default())
            .await;
    // A sign-in started on another host (the API's own URL, a forged Host) starts again on
    // PUBLIC_URL's, where the callback comes back to and the sign-in cookie must be.
    let elsewhere =
        app.get("/auth/login?return_to=%2Fcosts", &[("host", "abc123.execute-api.example")]).await;
    assert_eq!(elsewhere.status, 303);
    assert_eq!(elsewhere.header("location"), "https://polo.example.com/auth/login?return_to=%2Fcosts");
    assert!(elsewhere.cookies().is_empty());
    let host = [("host", "polo.example.com")];
    let login = app.get("/auth/login?return_to=%2Finstances", &host).await;
    assert_eq!(login.status, 303);
    let q = query_of(login.header("location"));
    assert_eq!(q["redirect_uri"], "https://polo.example.com/auth/callback");
    let flow_cookie = login.cookies()[0];
    assert!(flow_cookie.ends_with("; Secure"), "{flow_cookie}");
    assert_eq!(login.header("cache-control"), "no-store");
    provider.issue("code-h", &provider.claims(), &q["nonce"], &q["code_challenge"]);
    let callback = app
        .get(
            &format!("/auth/callback?code=code-h&state={}", q["state"]),
            &[("host", "polo.example.com"), ("cookie", cookie_pair(flow_cookie))],
        )
        .await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    let session = callback.cookies().into_iter().find(|c| c.contains("polo_session=")).unwrap();
    assert!(session.starts_with("__Host-polo_session="), "{session}");
    assert!(
        session.contains("Path=/") && session.contains("Secure") && !session.contains("Domain"),
        "{session}"
    );
    let page = app.get("/instances", &[("cookie", cookie_pair(session))]).await;
    assert_eq!(page.status, 200);
    // The same secret under the plain name (which a sibling subdomain or plain http could
    // have planted) is never read over HTTPS.
    let planted = cookie_pair(session).trim_start_matches("__Host-");
    let page = app.get("/instances", &[("cookie", planted), ("accept", "text/html")]).await;
    assert_eq!(page.status, 303);
}
