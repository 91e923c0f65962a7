//! `/auth/login`, `/auth/callback` and `/auth/logout`: the browser's authorization-code
//! sign-in with PKCE against the deployment's OpenID provider. The callback keeps a session
//! server-side and gives the browser only its random secret; logout is a POST carrying the
//! session's CSRF token, which ends the session here and then at the issuer.

use askama::Template;
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::state::AppState;
use polo_core::ports::Session;

use crate::app::identity::{admit_identity, session_secret};
use crate::auth::AuthError;
use crate::auth::flow::{
    PendingSignIn, SIGN_IN_MAX_AGE_SECS, random_token, same_origin_path, same_secret, session_cookie,
    session_id, set_cookie,
};
use crate::auth::oidc::Oidc;
use crate::error::AppError;
use crate::response::layout::Chrome;
use crate::response::respond::html;
use crate::routes::assemble::Routes;

/// `routes` with the sign-in flow: `/auth/login`, `/auth/callback`, `/auth/logout` (GET
/// shows where you stand, POST signs out), open to everyone (the dashboard function serves
/// them).
#[must_use]
pub fn with_sign_in(routes: Routes) -> Routes {
    routes
        .public("/auth/login", login)
        .public("/auth/callback", callback)
        .public("/auth/logout", signed_out)
        .public_post("/auth/logout", logout)
}

/// The dashboard's origin as the browser sees it: `PUBLIC_URL`, never the request's `Host`
/// (behind CloudFront or a custom domain, and for a forged `Host`, that one is wrong).
pub(crate) fn public_base(oidc: &Oidc) -> &str {
    oidc.settings.public_url.trim_end_matches('/')
}

/// Whether cookies get `Secure` (and the session cookie `__Host-`): always, except for a dev
/// server on plain `http://`.
fn secure(oidc: &Oidc) -> bool {
    oidc.secure_cookies()
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn configured(state: &AppState) -> Result<&Oidc, AppError> {
    state.sign_in.as_deref().ok_or_else(|| {
        AppError::Unavailable(
            "sign-in is not configured for this deployment (OIDC_ISSUER, OIDC_CLIENT_ID)".into(),
        )
    })
}

/// A 303 to `location` that the browser must not cache, setting `cookies`.
fn redirect(location: &str, cookies: &[String]) -> Result<Response, AppError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).map_err(|e| AppError::Internal(format!("header: {e}")));
    headers.insert(header::LOCATION, value(location)?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        headers.append(header::SET_COOKIE, value(c)?);
    }
    Ok(response)
}

/// The request's `Host` when it is not `PUBLIC_URL`'s.
fn other_host(oidc: &Oidc, headers: &HeaderMap) -> Option<String> {
    let public = url::Url::parse(&oidc.settings.public_url).ok()?;
    let public = match public.port() {
        Some(port) => format!("{}:{port}", public.host_str()?),
        None => public.host_str()?.to_owned(),
    };
    let host = headers.get(header::HOST)?.to_str().ok()?;
    (!host.eq_ignore_ascii_case(&public)).then(|| host.to_owned())
}

/// `GET /auth/login?return_to=PATH`: starts a sign-in at the provider.
async fn login(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let pairs = query_pairs(query.as_deref());
    if let Some((unknown, _)) = pairs.iter().find(|(k, _)| k != "return_to") {
        return Err(AppError::bad_param(unknown, format!("unknown parameter {unknown:?} (only return_to)")));
    }
    let return_to = match param(&pairs, "return_to") {
        None | Some("") => "/",
        Some(path) => same_origin_path(path)
            .map_err(|why| AppError::bad_param("return_to", format!("return_to {why}")))?,
    };
    if state.dev_identity() {
        return redirect(return_to, &[]);
    }
    let oidc = configured(&state)?;
    // The sign-in cookie must be set on the host the callback comes back to: a sign-in
    // started on another (the API's own URL behind a custom domain) starts again there.
    if let Some(elsewhere) = other_host(oidc, &headers) {
        let back: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
        tracing::info!(host = %elsewhere, "sign-in started on another host; sent to PUBLIC_URL's");
        return redirect(&format!("{}/auth/login?return_to={back}", public_base(oidc)), &[]);
    }
    let discovery = oidc.discovery().await.map_err(|e| AppError::Upstream(e.to_string()))?;
    let pending = PendingSignIn::start(return_to).map_err(AppError::Internal)?;
    let base = public_base(oidc);
    let mut url = url::Url::parse(&discovery.authorization_endpoint)
        .map_err(|e| AppError::Upstream(format!("authorization_endpoint: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.settings.client_id)
        .append_pair("redirect_uri", &format!("{base}/auth/callback"))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &crate::auth::flow::pkce_challenge(&pending.verifier))
        .append_pair("code_challenge_method", "S256");
    let flow_cookie = set_cookie(
        &PendingSignIn::cookie_name(&pending.state),
        &pending.cookie_value(),
        "/auth",
        SIGN_IN_MAX_AGE_SECS,
        secure(oidc),
    );
    // A page that sends the browser here again and again must not pile up sign-in cookies
    // until its requests are too large: past a few unfinished sign-ins, the older ones go.
    let held: Vec<&str> = PendingSignIn::names_in(&headers).collect();
    let mut cookies: Vec<String> = if held.len() >= MAX_PENDING_SIGN_INS {
        held.iter().map(|name| set_cookie(name, "", "/auth", 0, secure(oidc))).collect()
    } else {
        Vec::new()
    };
    cookies.push(flow_cookie);
    redirect(url.as_str(), &cookies)
}

/// Unfinished sign-ins a browser may hold at once (tabs signing in together).
const MAX_PENDING_SIGN_INS: usize = 4;

/// `GET /auth/callback?code&state`: the provider sends the person back; the code is
/// exchanged, the ID token validated, and the session cookie set.
async fn callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let oidc = configured(&state)?;
    let pairs = query_pairs(query.as_deref());
    let state_param = param(&pairs, "state").unwrap_or("");
    let pending = PendingSignIn::from_cookies(&headers, state_param).ok_or_else(|| {
        AppError::bad_param(
            "state",
            "this sign-in was not started in this browser, or took over 10 minutes: sign in again",
        )
    })?;
    let clear_flow = set_cookie(&PendingSignIn::cookie_name(&pending.state), "", "/auth", 0, secure(oidc));
    if let Some(error) = param(&pairs, "error") {
        let detail = param(&pairs, "error_description").unwrap_or("");
        return Err(AppError::SignInRefused(format!(
            "the identity provider refused the sign-in: {error} {detail}"
        )));
    }
    if let Some(iss) = param(&pairs, "iss")
        && iss != oidc.settings.issuer
    {
        return Err(AppError::bad_param("iss", "the answer comes from another identity provider"));
    }
    let code = param(&pairs, "code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::bad_param("code", "code is missing"))?;
    let base = public_base(oidc);
    let token = oidc
        .exchange(code, &pending.verifier, &format!("{base}/auth/callback"))
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    let now = state.clock.now();
    let identity = oidc.validate(&token, now, Some(&pending.nonce)).await.map_err(|e| match e {
        AuthError::Provider(e) => AppError::Upstream(e),
        e @ AuthError::InvalidToken(_) => AppError::SignInRefused(e.to_string()),
    })?;
    let role = admit_identity(&state.config.auth, &identity)?;
    let sessions = state.sessions.as_deref().ok_or_else(|| {
        AppError::Unavailable("sign-in has no session store (DYNAMODB_SESSION_TABLE_NAME)".into())
    })?;
    let secret = random_token(32).map_err(AppError::Internal)?;
    let lifetime = time::Duration::hours(i64::from(state.config.auth.session_hours));
    let session = Session {
        id: session_id(&secret),
        user: identity.user,
        groups: identity.groups,
        role,
        csrf: random_token(24).map_err(AppError::Internal)?,
        created_at: now,
        last_seen: now,
        expires_at: now + lifetime,
    };
    sessions.create(&session).await?;
    tracing::info!(user = %session.user, role = role.as_str(), "signed in");
    let cookie =
        set_cookie(session_cookie(secure(oidc)), &secret, "/", lifetime.whole_seconds(), secure(oidc));
    redirect(&pending.return_to, &[cookie, clear_flow])
}

/// Cognito's sign-out: `{endpoint}?client_id=…&logout_uri=…` (the URI must be one of the app
/// client's sign-out URLs).
fn cognito_logout(endpoint: &str, client_id: &str, back: &str) -> Option<url::Url> {
    let mut url = url::Url::parse(endpoint).ok()?;
    url.query_pairs_mut().append_pair("client_id", client_id).append_pair("logout_uri", back);
    Some(url)
}

#[derive(Template)]
#[template(path = "auth/signed_out.html")]
struct SignedOut {
    chrome: Chrome,
    note: Option<String>,
    /// The CSRF token of a session still live in this browser: the page offers to end it.
    confirm: Option<String>,
    /// The issuer's sign-out, which the page sends the browser on to (a refresh, not a
    /// redirect: a form's redirect to another origin breaks CSP `form-action 'self'`).
    at_issuer: Option<String>,
}

/// The live session of this browser, if any.
async fn current_session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, AppError> {
    let (Some(sessions), Some(secret)) = (state.sessions.as_deref(), session_secret(state, headers)) else {
        return Ok(None);
    };
    Ok(sessions.get(&session_id(secret), state.clock.now()).await?)
}

fn no_store(mut page: Response) -> Response {
    page.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// `GET /auth/logout`: where the issuer sends the person back after signing out there; a
/// browser still signed in gets a button that signs it out (a GET changes nothing).
async fn signed_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let confirm = current_session(&state, &headers).await?.map(|s| s.csrf);
    let page = SignedOut { chrome: Chrome::anonymous("/auth/logout"), note: None, confirm, at_issuer: None };
    Ok(no_store(html(&page)?))
}

/// The form of `POST /auth/logout`.
#[derive(serde::Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /auth/logout` with the session's CSRF token: ends the session (the store forgets
/// it, so the old cookie opens nothing), clears the cookie, then signs out at the issuer,
/// which sends the person back to `GET /auth/logout`. The issuer is never given the ID token.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, AppError> {
    let Some(session) = current_session(&state, &headers).await? else {
        return redirect("/auth/logout", &[]);
    };
    if !same_secret(&form.csrf, &session.csrf) {
        return Err(AppError::Forbidden(
            "this sign-out did not come from Polo's own page (its CSRF token is missing or wrong)".into(),
        ));
    }
    if let Some(sessions) = state.sessions.as_deref() {
        sessions.revoke(&session.id, state.clock.now()).await?;
    }
    tracing::info!(user = %session.user, "signed out");
    let Some(oidc) = state.sign_in.as_deref() else {
        return redirect("/auth/logout", &[]);
    };
    let clear = set_cookie(session_cookie(secure(oidc)), "", "/", 0, secure(oidc));
    let back = format!("{}/auth/logout", public_base(oidc));
    let at_issuer = match (&oidc.settings.logout_endpoint, oidc.discovery().await) {
        (Some(endpoint), _) => cognito_logout(endpoint, &oidc.settings.client_id, &back),
        // Cognito names its /logout in discovery, but it takes only client_id and logout_uri.
        (None, Ok(discovery)) if oidc.is_cognito() => discovery
            .end_session_endpoint
            .as_deref()
            .and_then(|e| cognito_logout(e, &oidc.settings.client_id, &back)),
        // OpenID RP-initiated logout with `client_id` instead of `id_token_hint`.
        (None, Ok(discovery)) => {
            discovery.end_session_endpoint.as_deref().and_then(|e| url::Url::parse(e).ok()).map(|mut url| {
                url.query_pairs_mut()
                    .append_pair("client_id", &oidc.settings.client_id)
                    .append_pair("post_logout_redirect_uri", &back);
                url
            })
        }
        (None, Err(e)) => {
            tracing::warn!(error = %e, "cannot reach the identity provider to sign out there");
            None
        }
    };
    let note = at_issuer.is_none().then(|| {
        "Your session here has ended; the identity provider was not asked to end its own.".to_owned()
    });
    let at_issuer = at_issuer.map(String::from);
    let page = SignedOut { chrome: Chrome::anonymous("/auth/logout"), note, confirm: None, at_issuer };
    let mut page = no_store(html(&page)?);
    let cookie = HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.to_string()))?;
    page.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(page)
}
