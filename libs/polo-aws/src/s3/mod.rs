pub mod bucket;
pub mod costs;
pub mod exports;
pub mod snapshot;
