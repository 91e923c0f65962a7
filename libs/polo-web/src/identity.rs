//! Who is asking: from the API Gateway authorizer's JWT claims, or `dev@localhost` in
//! development. Requests without an identity get 401 before any handler reads data.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;

use crate::error::AppError;
use crate::settings::DEV_USER;
use crate::state::AppState;

/// The signed-in user's name (the `email` claim, else `sub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser(pub String);

/// The user named by the authorizer claims of an API Gateway request, if any.
pub fn user_from_context(context: &RequestContext) -> Option<String> {
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

/// Middleware: finds the user or answers 401.
pub async fn require_identity(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let from_claims = request.extensions().get::<RequestContext>().and_then(user_from_context);
    let user = from_claims.or_else(|| state.settings.dev.then(|| DEV_USER.to_owned()));
    match user {
        Some(user) => {
            request.extensions_mut().insert(CurrentUser(user));
            next.run(request).await
        }
        None => AppError::Unauthorized.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or(AppError::Unauthorized)
    }
}
