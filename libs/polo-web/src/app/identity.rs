//! Who is asking: API Gateway authorizer claims, a bearer ID token, the session cookie of a
//! browser sign-in, or `dev@localhost` in development. Requests without an identity are sent
//! to sign in or get 401, before any handler reads data.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;

use crate::app::settings::DEV_USER;
use crate::app::state::AppState;
use crate::auth::AuthError;
use crate::auth::flow::login_location;
use crate::auth::flow::{SESSION_COOKIE, cookie, same_origin_path};
use crate::error::AppError;
use crate::request::negotiate::Format;

/// The signed-in user's name (the `email` claim, else `sub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser(pub String);

/// The user named by the authorizer claims of an API Gateway request, if any.
pub(crate) fn user_from_context(context: &RequestContext) -> Option<String> {
    let pick = |email: Option<&str>, sub: Option<&str>| {
        email.filter(|s| !s.is_empty()).or(sub.filter(|s| !s.is_empty())).map(str::to_owned)
    };
    match context {
        RequestContext::ApiGatewayV2(ctx) => {
            let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
            pick(claims.get("email").map(String::as_str), claims.get("sub").map(String::as_str))
        }
        RequestContext::ApiGatewayV1(ctx) => {
            let authorizer = &ctx.authorizer;
            if let Some(jwt) = &authorizer.jwt
                && let Some(user) = pick(
                    jwt.claims.get("email").map(String::as_str),
                    jwt.claims.get("sub").map(String::as_str),
                )
            {
                return Some(user);
            }
            let claims = authorizer.fields.get("claims")?;
            pick(claims.get("email").and_then(|v| v.as_str()), claims.get("sub").and_then(|v| v.as_str()))
        }
        _ => None,
    }
}

/// Middleware: finds the user, in this order: API Gateway authorizer claims, a bearer
/// token, the session cookie, `ENV=dev`. Without one, a browser asking for a page is sent to
/// sign in (htmx gets `HX-Redirect`), and anything else gets 401, before any data is read.
pub(crate) async fn require_identity(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let claims_user = request.extensions().get::<RequestContext>().and_then(user_from_context);
    let bearer = bearer_token(request.headers()).map(str::to_owned);
    let session = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned);
    match identify(&state, claims_user, bearer, session).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(CurrentUser(user));
            next.run(request).await
        }
        Ok(None) => without_identity(&state, &request),
        Err(refused) => {
            let mut response = refused.into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            response
        }
    }
}

/// The user of a request; an invalid bearer token is an error, an invalid or expired
/// session cookie is no identity (the person signs in again).
async fn identify(
    state: &AppState,
    claims_user: Option<String>,
    bearer: Option<String>,
    session: Option<String>,
) -> Result<Option<String>, AppError> {
    if let Some(user) = claims_user {
        return Ok(Some(user));
    }
    let now = state.clock.now();
    if let Some(token) = bearer.as_deref() {
        let oidc = state.sign_in.as_deref().ok_or_else(|| {
            AppError::SignInRefused("bearer tokens are not accepted: sign-in is not configured".into())
        })?;
        return match oidc.validate(token, now, None).await {
            Ok(identity) => Ok(Some(identity.user)),
            Err(AuthError::Provider(e)) => Err(AppError::Upstream(e)),
            Err(e) => Err(AppError::SignInRefused(e.to_string())),
        };
    }
    if let (Some(oidc), Some(token)) = (state.sign_in.as_deref(), session.as_deref()) {
        match oidc.validate(token, now, None).await {
            Ok(identity) => return Ok(Some(identity.user)),
            Err(e) => tracing::info!(error = %e, "session cookie not accepted; signing in again"),
        }
    }
    Ok(state.dev_identity().then(|| DEV_USER.to_owned()))
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
