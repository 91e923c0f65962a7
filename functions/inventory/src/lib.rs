//! The inventory function: `/instances`, `/instances/{id}`, `/indexes`, `/indexes/{index_id}`.

mod indexes;
mod instances;
pub mod items;

use polo_web::routes::Routes;

/// The routes this function answers.
pub fn routes() -> Routes {
    Routes::new("inventory")
        .page("/instances", instances::list)
        .page("/instances/{id}", instances::detail)
        .page("/indexes", indexes::list)
        .page("/indexes/{index_id}", indexes::detail)
}
