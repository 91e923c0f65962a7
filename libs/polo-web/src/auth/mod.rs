//! Signing people in: an OpenID Connect provider (Cognito's hosted UI, or any issuer), the
//! authorization-code flow with PKCE for browsers, and ID-token validation for both the
//! session cookie and scripts' bearer tokens. Every route function checks identity itself
//! (`app::identity`); the sign-in routes are `routes::sign_in`. Nothing here knows the app.

pub(crate) mod flow;
pub(crate) mod oidc;

pub use oidc::{AuthError, Identity, Oidc, OidcSettings};
