//! `/auth/login`, `/auth/callback` and `/auth/logout`: the browser's authorization-code
//! sign-in with PKCE against the deployment's OpenID provider.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::state::AppState;
use crate::auth::flow::{
    PendingSignIn, SESSION_COOKIE, SIGN_IN_MAX_AGE_SECS, cookie, same_origin_path, set_cookie,
};
use crate::auth::oidc::Oidc;
use crate::error::AppError;
use crate::response::layout::Chrome;
use crate::response::respond::html;
use crate::routes::assemble::Routes;

/// `routes` with the sign-in flow: `/auth/login`, `/auth/callback`, `/auth/logout`, open to
/// everyone (the dashboard function serves them).
#[must_use]
pub fn with_sign_in(routes: Routes) -> Routes {
    routes.public("/auth/login", login).public("/auth/callback", callback).public("/auth/logout", logout)
}

/// The dashboard's origin as the browser sees it: `PUBLIC_URL`, else `https://{Host}`.
pub(crate) fn public_base(oidc: &Oidc, headers: &HeaderMap) -> Result<String, AppError> {
    if let Some(url) = &oidc.settings.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .ok_or_else(|| AppError::bad_param("host", "the request names no usable Host"))?;
    Ok(format!("https://{host}"))
}

/// Whether cookies get `Secure`: always, except for a dev server on plain `http://`.
fn secure(oidc: &Oidc) -> bool {
    !oidc.settings.public_url.as_deref().is_some_and(|u| u.starts_with("http://"))
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
    let discovery = oidc.discovery().await.map_err(|e| AppError::Upstream(e.to_string()))?;
    let pending = PendingSignIn::start(return_to).map_err(AppError::Internal)?;
    let base = public_base(oidc, &headers)?;
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
    redirect(url.as_str(), &[flow_cookie])
}

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
    let base = public_base(oidc, &headers)?;
    let token = oidc
        .exchange(code, &pending.verifier, &format!("{base}/auth/callback"))
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    let identity = oidc
        .validate(&token, state.clock.now(), Some(&pending.nonce))
        .await
        .map_err(|e| AppError::SignInRefused(e.to_string()))?;
    let max_age = (identity.expires_at - state.clock.now()).whole_seconds().max(0);
    tracing::info!(user = %identity.user, "signed in");
    let session = set_cookie(SESSION_COOKIE, &token, "/", max_age, secure(oidc));
    redirect(&pending.return_to, &[session, clear_flow])
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
}

/// `GET /auth/logout` (`LOGOUT_URL`): ends the session here, then at the provider, which
/// sends the person back here to a "signed out" page.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = cookie(&headers, SESSION_COOKIE).map(str::to_owned);
    let (Some(oidc), Some(token)) = (state.sign_in.as_deref(), token) else {
        let mut page = html(&SignedOut { chrome: Chrome::anonymous("/auth/logout"), note: None })?;
        page.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(page);
    };
    let clear = set_cookie(SESSION_COOKIE, "", "/", 0, secure(oidc));
    let back = format!("{}/auth/logout", public_base(oidc, &headers)?);
    let at_issuer = match (&oidc.settings.logout_endpoint, oidc.discovery().await) {
        (Some(endpoint), _) => cognito_logout(endpoint, &oidc.settings.client_id, &back),
        // Cognito names its /logout in discovery, but it takes only client_id and logout_uri.
        (None, Ok(discovery)) if oidc.is_cognito() => discovery
            .end_session_endpoint
            .as_deref()
            .and_then(|e| cognito_logout(e, &oidc.settings.client_id, &back)),
        (None, Ok(discovery)) => {
            discovery.end_session_endpoint.as_deref().and_then(|e| url::Url::parse(e).ok()).map(|mut url| {
                url.query_pairs_mut()
                    .append_pair("client_id", &oidc.settings.client_id)
                    .append_pair("post_logout_redirect_uri", &back)
                    .append_pair("id_token_hint", &token);
                url
            })
        }
        (None, Err(e)) => {
            tracing::warn!(error = %e, "cannot reach the identity provider to sign out there");
            None
        }
    };
    if let Some(url) = at_issuer {
        return redirect(url.as_str(), &[clear]);
    }
    let note =
        Some("Your session here has ended; the identity provider was not asked to end its own.".to_owned());
    let mut page = html(&SignedOut { chrome: Chrome::anonymous("/auth/logout"), note })?;
    let cookie = HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.to_string()))?;
    page.headers_mut().insert(header::SET_COOKIE, cookie);
    page.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(page)
}
