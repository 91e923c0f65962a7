//! The web settings of a route function, read once at start.

/// How the pages present themselves and who may see them.
#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    /// `ENV=dev`: no identity provider; every request is `dev@localhost`.
    pub dev: bool,
    /// Where the logout link points (`LOGOUT_URL`).
    pub logout_url: Option<String>,
}

/// The user every request is in development.
pub const DEV_USER: &str = "dev@localhost";

/// Where the logout link points unless `LOGOUT_URL` says otherwise.
pub const DEFAULT_LOGOUT_URL: &str = "/auth/logout";
