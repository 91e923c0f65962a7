//! The static assets (`static/`), embedded at build time. Each has its logical path
//! (`dist/main.css`) and a content-hashed one (`dist/main.3f2a….css`) that never changes
//! meaning, so it may be cached forever.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path under `static/`, `/`-separated.
    pub path: &'static str,
    /// The same with a content hash before the extension.
    pub hashed_path: &'static str,
    /// A strong ETag of the content, quoted.
    pub etag: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The URL path pages should link for the asset at `logical` (`/static/dist/main.<hash>.css`);
/// the unhashed path when the asset was not there at build time.
pub fn url(logical: &str) -> String {
    let name = NAMES.iter().find(|(l, _)| *l == logical).map_or(logical, |(_, hashed)| *hashed);
    format!("/static/{name}")
}

/// The asset served at `path` (the part after `/static/`), by hashed or logical name.
/// Only exact names of the embedded set match: nothing else can be reached.
pub fn find(path: &str) -> Option<(&'static Asset, bool)> {
    FILES.iter().find_map(|a| {
        if a.hashed_path == path {
            Some((a, true))
        } else if a.path == path {
            Some((a, false))
        } else {
            None
        }
    })
}

/// The content type for a file name.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::{content_type, find, url};

    /// What `scripts/check-build` asks of a fresh checkout (committed files only, no
    /// Tailwind run): the stylesheet pages link is embedded, hashed, styled, and CSS.
    #[test]
    fn the_committed_stylesheet_is_embedded_under_a_content_hash() {
        let link = url("dist/main.css");
        let hashed = link.strip_prefix("/static/dist/main.").and_then(|rest| rest.strip_suffix(".css"));
        assert!(
            hashed.is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit())),
            "the stylesheet link is not a hashed asset: {link}"
        );
        let path = link.trim_start_matches("/static/");
        let Some((asset, true)) = find(path) else { panic!("{path} is not served by its hashed name") };
        assert!(asset.bytes.len() > 1000, "{path}: only {} bytes", asset.bytes.len());
        assert!(content_type(path).starts_with("text/css"));
        assert!(find("dist/../Cargo.toml").is_none() && find("src/main.css").is_none(), "nothing else");
    }
}
