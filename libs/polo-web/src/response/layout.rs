//! The frame around every page: header, navigation, search box, user and logout link.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

use crate::app::identity::CurrentUser;
use crate::app::state::AppState;
use crate::error::{AppError, ErrorReport};
use crate::response::respond::html_body;

/// What the layout shows around a page.
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The signed-in user; empty on error pages that precede identity.
    pub user: String,
    /// Their role (`viewer`, `operator`), shown beside the name.
    pub role: &'static str,
    /// The session's CSRF token, for the logout form (and every form that changes something).
    pub csrf: Option<String>,
    pub logout_url: Option<String>,
    /// The request path, to mark the current section.
    pub path: String,
    /// The free text of the current request, shown in the search box.
    pub search: String,
    pub stylesheet: String,
    pub script: String,
    pub htmx: String,
    pub favicon: String,
    /// A note about the data every page shows (the bundled sample).
    pub data_note: Option<String>,
}

impl Chrome {
    /// A frame with no user (error pages rendered outside the identity check).
    pub fn anonymous(path: &str) -> Chrome {
        Chrome {
            user: String::new(),
            role: "",
            csrf: None,
            logout_url: None,
            path: path.to_owned(),
            search: String::new(),
            stylesheet: polo_assets::url("dist/main.css"),
            script: polo_assets::url("js/polo.js"),
            htmx: polo_assets::url("vendor/htmx.min.js"),
            favicon: polo_assets::url("favicon.svg"),
            data_note: None,
        }
    }

    /// True when `section` (`/instances`) is the current one.
    pub fn is_current(&self, section: &str) -> bool {
        if section == "/" { self.path == "/" } else { self.path.starts_with(section) }
    }

    /// Shows `text` in the header search box.
    #[must_use]
    pub fn with_search(mut self, text: &str) -> Chrome {
        text.clone_into(&mut self.search);
        self
    }
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let mut chrome = Chrome::anonymous(parts.uri.path());
        chrome.user = user.name;
        chrome.role = user.role.as_str();
        chrome.csrf = user.csrf;
        chrome.logout_url.clone_from(&state.settings.logout_url);
        chrome.data_note.clone_from(&state.settings.data_note);
        Ok(chrome)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    report: &'a ErrorReport,
    title: String,
}

/// The HTML page for an error.
pub(crate) fn error_page(report: &ErrorReport) -> Response {
    let title = match report.status {
        400 => "Bad request".to_owned(),
        401 => "Sign-in required".to_owned(),
        403 => "Not allowed".to_owned(),
        404 => "Not found".to_owned(),
        503 if report.message.starts_with("No data yet") => "No data yet".to_owned(),
        503 => "Data unavailable".to_owned(),
        s => format!("Error {s}"),
    };
    let page = ErrorPage { chrome: Chrome::anonymous(""), report, title };
    match page.render() {
        Ok(body) => html_body(body),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            html_body(String::from("<!doctype html><title>Error</title><p>Error</p>"))
        }
    }
}
