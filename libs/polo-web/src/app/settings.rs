//! The web settings of a route function, read once at start.

/// How the pages present themselves and who may see them.
#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    /// `ENV=dev`: no identity provider; every request is `dev@localhost`.
    pub dev: bool,
    /// Where the logout link points (`LOGOUT_URL`).
    pub logout_url: Option<String>,
    /// Largest CSV answered inline (`CSV_INLINE_MAX_BYTES`); a larger one goes to the export
    /// store and is answered with a redirect. `None`: no limit (the dev server).
    pub inline_csv_limit: Option<usize>,
    /// A note every page shows about the data (the bundled sample and its date).
    pub data_note: Option<String>,
}

/// Lambda answers at most 6 MB; this leaves room for headers.
pub(crate) const DEFAULT_INLINE_CSV_LIMIT: usize = 5_000_000;

/// The user every request is in development.
pub(crate) const DEV_USER: &str = "dev@localhost";

/// Where the logout link points unless `LOGOUT_URL` says otherwise.
pub const DEFAULT_LOGOUT_URL: &str = "/auth/logout";
