//! Reading a request: the format it asks for, htmx's headers, table and search parameters,
//! ids from the path. Depends on nothing of the app but the error type.

pub(crate) mod htmx;
pub(crate) mod negotiate;
pub(crate) mod params;
pub(crate) mod path;

pub use htmx::Htmx;
pub use negotiate::Format;
pub use params::{TableQuery, detail_format, detail_params, search_query};
pub use path::PathId;
