//! Security headers on every response.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Pages load scripts, styles and images from this origin only, and no one may frame them.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// What an answer over HTTPS tells the browser: HTTPS only for this host, for a year.
pub(crate) const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Whether `request` came over HTTPS: its URL's scheme, or API Gateway's `X-Forwarded-Proto`.
fn over_https(request: &Request) -> bool {
    request.uri().scheme_str() == Some("https")
        || request
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Middleware: adds CSP, nosniff, referrer policy and framing denial, and HSTS to an answer
/// over HTTPS (a deployment; `polo serve` on plain HTTP gets none).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let https = over_https(&request);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if https {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn hsts_only_on_answers_over_https() {
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(security_headers));
        let over = |proto: Option<&str>| {
            let mut r = Request::builder().uri("/");
            if let Some(proto) = proto {
                r = r.header("x-forwarded-proto", proto);
            }
            r.body(Body::empty()).unwrap()
        };
        let https = app.clone().oneshot(over(Some("https"))).await.unwrap();
        assert_eq!(https.headers()[header::STRICT_TRANSPORT_SECURITY], STRICT_TRANSPORT_SECURITY);
        for plain in [None, Some("http")] {
            let answer = app.clone().oneshot(over(plain)).await.unwrap();
            assert!(answer.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{plain:?}");
        }
    }
}
