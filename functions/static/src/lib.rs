//! The static function: `/static/{path}` from the assets embedded at build time.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use polo_web::AppError;
use polo_web::routes::Routes;

/// Cache lifetime of content-hashed names: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed names may change with any deploy: revalidate every time.
pub const REVALIDATE: &str = "public, max-age=0, must-revalidate";

/// The routes this function answers. Assets need no signed-in user.
pub fn routes() -> Routes<()> {
    Routes::new("static").public("/static/{proxy+}", serve)
}

/// `GET /static/{path}`: an embedded asset, with its type, cache policy and ETag; 304 when
/// the client has it; 404 for anything that is not exactly an asset's name.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some((asset, hashed)) = polo_assets::find(&path) else {
        return Err(AppError::NotFound(format!("no asset {path:?}")));
    };
    let cache = if hashed { IMMUTABLE } else { REVALIDATE };
    let etag = HeaderValue::from_static(asset.etag);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == asset.etag || tag.trim() == "*"));
    let common = [(header::CACHE_CONTROL, HeaderValue::from_static(cache)), (header::ETAG, etag)];
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(polo_assets::content_type(asset.path)))],
        asset.bytes,
    )
        .into_response())
}
