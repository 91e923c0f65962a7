//! What every Polo route function shares, grouped so that no module depends back on one
//! that depends on it (`request` and `auth` on nothing of the app; `app` on them;
//! `response` and `table` on `app`; `routes` and `lambda` on everything). A small public
//! surface, re-exported from each group; everything else is the crate's own.

#![warn(unreachable_pub)]

mod error;

pub mod app;
pub mod auth;
pub mod lambda;
pub mod request;
pub mod response;
pub mod routes;
pub mod table;

pub use app::{AppState, CurrentUser};
pub use error::{AppError, ErrorReport};
pub use request::Format;
pub use response::Chrome;
