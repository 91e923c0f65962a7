//! A function's routes ([`Routes`]: each path written once), the sign-in routes, the layers
//! every function has, and the dev server's access log.

pub(crate) mod access_log;
pub(crate) mod assemble;
pub(crate) mod sign_in;

pub use access_log::access_log;
pub use assemble::{RouteSpec, Routes, finish};
pub use sign_in::with_sign_in;
