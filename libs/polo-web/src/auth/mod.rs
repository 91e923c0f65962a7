//! Signing people in: an OpenID Connect provider (Cognito's hosted UI, or any issuer), the
//! authorization-code flow with PKCE for browsers, and ID-token validation for both the
//! session cookie and scripts' bearer tokens. Every route function checks identity itself.

pub mod flow;
pub mod oidc;
pub mod routes;

pub use oidc::{AuthError, Identity, Oidc, OidcSettings};
pub use routes::{login_location, with_sign_in};
