//! Who is asking: API Gateway authorizer claims, a bearer ID token, the session of a browser
//! sign-in, or `dev@localhost` on the local server. Requests without an identity are sent to
//! sign in or get 401, and people outside `[auth]`'s allowed groups and domains get 403,
//! before any handler reads data.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use polo_core::config::AuthSettings;
use polo_core::ports::Role;

use crate::app::settings::DEV_USER;
use crate::app::state::AppState;
use crate::auth::flow::login_location;
use crate::auth::flow::{cookie, same_origin_path, session_id};
use crate::auth::{AuthError, Identity};
use crate::error::AppError;
use crate::request::negotiate::Format;

/// Who is asking, and what they may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    /// The `email` claim, else `sub`.
    pub name: String,
    pub role: Role,
    /// The browser session's CSRF token, which forms that change something must carry;
    /// `None` for bearer tokens, authorizer claims and the local user.
    pub csrf: Option<String>,
}

impl CurrentUser {
    /// Whether this user may take an action whose form carried `token`: an operator, with
    /// the form's CSRF token where a browser would send the credentials by itself.
    pub fn may_act(&self, state: &AppState, token: Option<&str>) -> Result<(), AppError> {
        if self.role != Role::Operator {
            return Err(AppError::Forbidden(format!(
                "{} is a viewer: only operators may act on findings",
                self.name
            )));
        }
        // The local user's token is made at start; without one (no randomness), no form of
        // theirs can be trusted.
        if self.is_local(state) && state.dev_csrf.is_none() {
            return Err(AppError::Forbidden(
                "no CSRF token could be made when polo serve started: restart it to act on findings".into(),
            ));
        }
        if let Some(expected) = self.form_token(state)
            && !token.is_some_and(|t| crate::auth::flow::same_secret(t, &expected))
        {
            return Err(AppError::Forbidden(
                "the form's CSRF token is missing or stale: reload the page and try again".into(),
            ));
        }
        Ok(())
    }

    /// The token a form that changes something must carry for this user: the session's
    /// CSRF token, or on the local server the process's own; `None` where no browser sends
    /// the credentials by itself (bearer tokens, authorizer claims).
    pub fn form_token(&self, state: &AppState) -> Option<String> {
        self.csrf.clone().or_else(|| {
            if self.is_local(state) { state.dev_csrf.as_deref().map(str::to_owned) } else { None }
        })
    }

    /// Whether this is `polo serve`'s local user.
    fn is_local(&self, state: &AppState) -> bool {
        state.dev_identity() && self.name == DEV_USER
    }
}

/// The authorizer claims Polo reads.
const CLAIM_NAMES: [&str; 4] = ["email", "sub", "email_verified", "cognito:groups"];

/// A session is marked used at most this often (one write a minute, not one a request).
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// What the authorizer claims of an API Gateway request say, if any: the user, the e-mail
/// when `email_verified` is true (API Gateway passes it as a string), and the groups
/// (`cognito:groups`, which HTTP APIs flatten to `[a b]`).
pub(crate) fn identity_from_context(
    context: &RequestContext,
) -> Option<(String, Option<String>, Vec<String>)> {
    let text = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    let verified = |email: Option<&str>, flag: Option<&str>| text(email).filter(|_| flag == Some("true"));
    let groups = |v: Option<&str>| -> Vec<String> {
        v.map(|g| {
            g.trim_start_matches('[')
                .trim_end_matches(']')
                .split([' ', ','])
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    // The claims Polo reads, as text, from each shape: HTTP API JWT claims, REST JWT claims,
    // REST Cognito authorizer claims (JSON values; a boolean becomes "true").
    let strings = |claims: &std::collections::HashMap<String, String>| -> Vec<Option<String>> {
        CLAIM_NAMES.iter().map(|k| claims.get(*k).cloned()).collect()
    };
    let found: Vec<Option<String>> = match context {
        RequestContext::ApiGatewayV2(ctx) => strings(&ctx.authorizer.as_ref()?.jwt.as_ref()?.claims),
        RequestContext::ApiGatewayV1(ctx) => match &ctx.authorizer.jwt {
            Some(jwt) if !jwt.claims.is_empty() => strings(&jwt.claims),
            _ => {
                let claims = ctx.authorizer.fields.get("claims")?;
                CLAIM_NAMES
                    .iter()
                    .map(|k| match claims.get(*k)? {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .collect()
            }
        },
        _ => return None,
    };
    let [email, sub, flag, group_list] = [0, 1, 2, 3].map(|i| found.get(i).cloned().flatten());
    let user = text(email.as_deref()).or_else(|| text(sub.as_deref()))?;
    Some((user, verified(email.as_deref(), flag.as_deref()), groups(group_list.as_deref())))
}

/// Whether `[auth]` lets this person in, and as what; the refusal says why, for the 403 page.
pub(crate) fn admit(settings: &AuthSettings, email: Option<&str>, groups: &[String]) -> Result<Role, String> {
    if !settings.allowed_email_domains.is_empty() {
        let domain = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase());
        let allowed = domain
            .as_deref()
            .is_some_and(|d| settings.allowed_email_domains.iter().any(|a| a.eq_ignore_ascii_case(d)));
        if !allowed {
            return Err(format!(
                "this dashboard admits only verified e-mail addresses at {}; you are signed in as {}",
                settings.allowed_email_domains.join(", "),
                email.unwrap_or("someone without a verified e-mail address")
            ));
        }
    }
    if !settings.allowed_groups.is_empty() && !groups.iter().any(|g| settings.allowed_groups.contains(g)) {
        return Err(format!(
            "this dashboard admits only members of {}; ask an administrator to add you to one",
            settings.allowed_groups.join(", ")
        ));
    }
    Ok(if groups.iter().any(|g| settings.operator_groups.contains(g)) {
        Role::Operator
    } else {
        Role::Viewer
    })
}

/// Admits the person a valid ID token names.
pub(crate) fn admit_identity(settings: &AuthSettings, identity: &Identity) -> Result<Role, AppError> {
    admit(settings, identity.verified_email.as_deref(), &identity.groups).map_err(|why| {
        tracing::info!(user = %identity.user, why = %why, "refused: outside the allowed groups or domains");
        AppError::Forbidden(why)
    })
}

/// Middleware: finds the user, in this order: API Gateway authorizer claims, a bearer
/// token, the session cookie, the local user. Without one, a browser asking for a page is
/// sent to sign in (htmx gets `HX-Redirect`), anything else gets 401; someone outside the
/// allowed groups or domains gets 403; all before any data is read.
pub(crate) async fn require_identity(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let claims = request.extensions().get::<RequestContext>().and_then(identity_from_context);
    let bearer = bearer_token(request.headers()).map(str::to_owned);
    let secret = session_secret(&state, request.headers()).map(str::to_owned);
    match identify(&state, claims, bearer, secret).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) => without_identity(&state, &request),
        Err(refused @ AppError::SignInRefused(_)) => {
            let mut response = refused.into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            response
        }
        Err(other) => other.into_response(),
    }
}

/// The browser's session secret: the `__Host-` cookie over HTTPS (a cookie without the
/// prefix could have been planted by a sibling subdomain or over plain http, and is never
/// read there), the plain one only on a dev server's `http://`.
pub(crate) fn session_secret<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let secure = state.sign_in.as_deref().is_none_or(crate::auth::Oidc::secure_cookies);
    cookie(headers, crate::auth::flow::session_cookie(secure))
}

/// The user of a request; an invalid bearer token is an error, a missing, revoked, expired
/// or idle session is no identity (the person signs in again).
async fn identify(
    state: &AppState,
    claims: Option<(String, Option<String>, Vec<String>)>,
    bearer: Option<String>,
    secret: Option<String>,
) -> Result<Option<CurrentUser>, AppError> {
    let auth = &state.config.auth;
    if let Some((name, email, groups)) = claims {
        let role = admit(auth, email.as_deref(), &groups).map_err(AppError::Forbidden)?;
        return Ok(Some(CurrentUser { name, role, csrf: None }));
    }
    let now = state.clock.now();
    if let Some(token) = bearer.as_deref() {
        let oidc = state.sign_in.as_deref().ok_or_else(|| {
            AppError::SignInRefused("bearer tokens are not accepted: sign-in is not configured".into())
        })?;
        let identity = match oidc.validate(token, now, None).await {
            Ok(identity) => identity,
            Err(AuthError::Provider(e)) => return Err(AppError::Upstream(e)),
            Err(e) => return Err(AppError::SignInRefused(e.to_string())),
        };
        let role = admit_identity(auth, &identity)?;
        return Ok(Some(CurrentUser { name: identity.user, role, csrf: None }));
    }
    if let (Some(sessions), Some(secret)) = (state.sessions.as_deref(), secret.as_deref()) {
        let id = session_id(secret);
        let idle = time::Duration::minutes(i64::from(auth.idle_minutes));
        match sessions.get(&id, now).await? {
            Some(session) if session.live_at(now, idle) => {
                if now - session.last_seen >= TOUCH_EVERY
                    && let Err(e) = sessions.touch(&id, now).await
                {
                    tracing::warn!(error = %e, "could not mark the session used; it may end early");
                }
                return Ok(Some(CurrentUser {
                    name: session.user,
                    role: session.role,
                    csrf: Some(session.csrf),
                }));
            }
            Some(_) => tracing::info!("session idle too long; signing in again"),
            None => tracing::info!("no such session (signed out, revoked or expired); signing in again"),
        }
    }
    Ok(state.dev_identity().then(|| CurrentUser {
        name: DEV_USER.to_owned(),
        role: Role::Operator,
        csrf: None,
    }))
}

/// The token of `Authorization: Bearer …`.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The answer to a request without identity.
fn without_identity(state: &AppState, request: &Request) -> Response {
    let readable = request.method() == Method::GET || request.method() == Method::HEAD;
    if state.sign_in.is_none() || !readable {
        return AppError::Unauthorized.into_response();
    }
    let headers = request.headers();
    let here = request.uri().path_and_query().map_or("/", |p| p.as_str());
    if headers.get("hx-request").is_some_and(|v| v.as_bytes() == b"true") {
        // The page the person is on, not the fragment htmx asked for.
        let page = headers
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
            .filter(|p| same_origin_path(p).is_ok())
            .unwrap_or_else(|| here.to_owned());
        let mut response = AppError::Unauthorized.into_response();
        if let Ok(value) = HeaderValue::from_str(&login_location(&page)) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    if Format::lenient(request.uri().query(), headers) != Format::Html {
        return AppError::Unauthorized.into_response();
    }
    match HeaderValue::from_str(&login_location(here)) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response(),
        Err(_) => AppError::Unauthorized.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or(AppError::Unauthorized)
    }
}
