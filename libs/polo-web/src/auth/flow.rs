//! The pieces of one browser sign-in: random `state`, `nonce` and PKCE verifier, the
//! cookies that bind them to the browser, and where the person returns afterwards.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The session cookie over HTTPS: a random secret (the server keeps the session under its
/// SHA-256), `__Host-` so only this origin, over HTTPS, with `Path=/`, can set it.
pub(crate) const SESSION_COOKIE: &str = "__Host-polo_session";
/// The same cookie for a dev server on plain `http://`, where browsers refuse `__Host-`.
pub(crate) const PLAIN_SESSION_COOKIE: &str = "polo_session";

/// The session cookie's name: `__Host-` when cookies are `Secure`.
pub(crate) fn session_cookie(secure: bool) -> &'static str {
    if secure { SESSION_COOKIE } else { PLAIN_SESSION_COOKIE }
}

/// The id a session is kept under: the hex SHA-256 of the browser's secret, so the store
/// never holds what the cookie holds.
pub(crate) fn session_id(secret: &str) -> String {
    use std::fmt::Write as _;
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref().iter().fold(
        String::with_capacity(64),
        |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        },
    )
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}
/// The prefix of a sign-in-in-progress cookie; its name ends with the `state`, so sign-ins
/// started in two tabs do not overwrite each other.
pub(crate) const SIGN_IN_COOKIE_PREFIX: &str = "polo_signin_";
/// How long a started sign-in may take.
pub(crate) const SIGN_IN_MAX_AGE_SECS: i64 = 600;

/// `bytes` random bytes from the OS's CSPRNG, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buffer).map_err(|_| "no randomness available".to_owned())?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// The PKCE `S256` challenge of a verifier (RFC 7636).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()))
}

/// A sign-in in progress, as its cookie holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingSignIn {
    pub state: String,
    pub verifier: String,
    pub nonce: String,
    pub return_to: String,
}

impl PendingSignIn {
    /// Starts one, returning to `return_to` (already checked by [`same_origin_path`]).
    pub(crate) fn start(return_to: &str) -> Result<PendingSignIn, String> {
        Ok(PendingSignIn {
            state: random_token(24)?,
            verifier: random_token(32)?,
            nonce: random_token(24)?,
            return_to: return_to.to_owned(),
        })
    }

    /// The cookie's name.
    pub(crate) fn cookie_name(state: &str) -> String {
        format!("{SIGN_IN_COOKIE_PREFIX}{state}")
    }

    /// The cookie's value: verifier, nonce and return path, dot-separated.
    pub(crate) fn cookie_value(&self) -> String {
        format!("{}.{}.{}", self.verifier, self.nonce, URL_SAFE_NO_PAD.encode(&self.return_to))
    }

    /// The names of every sign-in cookie the request carries.
    pub(crate) fn names_in(headers: &HeaderMap) -> impl Iterator<Item = &str> {
        cookies(headers).map(|(k, _)| k).filter(|k| k.starts_with(SIGN_IN_COOKIE_PREFIX))
    }

    /// Reads the cookie of `state` back; `None` if this browser did not start that sign-in.
    pub(crate) fn from_cookies(headers: &HeaderMap, state: &str) -> Option<PendingSignIn> {
        if state.is_empty() || !state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return None;
        }
        let value = cookie(headers, &PendingSignIn::cookie_name(state))?;
        let mut parts = value.split('.');
        let (verifier, nonce, target) = (parts.next()?, parts.next()?, parts.next()?);
        let return_to = String::from_utf8(URL_SAFE_NO_PAD.decode(target).ok()?).ok()?;
        Some(PendingSignIn {
            state: state.to_owned(),
            verifier: verifier.to_owned(),
            nonce: nonce.to_owned(),
            return_to: same_origin_path(&return_to).ok()?.to_owned(),
        })
    }
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Secure` when `secure`.
pub(crate) fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")
}

/// The value of the cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers).find(|(k, _)| *k == name).map(|(_, v)| v).filter(|v| !v.is_empty())
}

/// Every `name=value` the request's `Cookie` headers carry, in order.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// `return_to` if it is a path on this site (`/instances?q=x`), never another origin:
/// no scheme, no `//host`, no backslash (browsers read `/\host` as `//host`), no control
/// characters.
pub(crate) fn same_origin_path(return_to: &str) -> Result<&str, &'static str> {
    let bytes = return_to.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err("must be a path on this site, starting with /");
    }
    if bytes.get(1) == Some(&b'/') || return_to.contains('\\') {
        return Err("must not name another site");
    }
    if return_to.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    if return_to.len() > 2048 {
        return Err("is longer than 2048 characters");
    }
    Ok(return_to)
}

/// The sign-in page of the deployment, returning to `return_to`.
pub(crate) fn login_location(return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/auth/login?return_to={encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn return_to_stays_on_this_site() {
        for ok in ["/", "/instances?state=running&q=a%20b", "/indexes/idx-1#x"] {
            assert_eq!(same_origin_path(ok), Ok(ok), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "\\\\evil.example",
            "evil.example",
            "",
            "javascript:alert(1)",
            "/x\r\nSet-Cookie: a=b",
            "/\tx",
        ] {
            assert!(same_origin_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pending_sign_in_round_trips_through_its_cookie_only_for_its_state() {
        let pending = PendingSignIn::start("/instances?q=a").unwrap();
        assert_ne!(pending.state, PendingSignIn::start("/").unwrap().state);
        let mut headers = HeaderMap::new();
        let cookie =
            format!("other=1; {}={}", PendingSignIn::cookie_name(&pending.state), pending.cookie_value());
        headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(PendingSignIn::from_cookies(&headers, &pending.state), Some(pending.clone()));
        assert_eq!(PendingSignIn::from_cookies(&headers, "someone-elses-state"), None);
        assert_eq!(PendingSignIn::from_cookies(&headers, "a;b"), None);
    }
}
