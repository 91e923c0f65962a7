//! Serving a route function on Lambda: API Gateway events made safe, then axum.

pub(crate) mod event;
pub(crate) mod run;

pub use event::{UriPart, encode_uri_part};
pub use run::{Fatal, in_service, run, serve};
