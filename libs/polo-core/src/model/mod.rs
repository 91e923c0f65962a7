//! What Polo knows about the fleet: instances, indexes, cost rows and the snapshot of all.

mod cost;
mod fleet;
mod index;
mod instance;
mod snapshot;

pub use cost::{CostDimension, CostRow};
pub use fleet::Fleet;
pub use index::{Index, IndexStatus};
pub use instance::{Instance, InstanceState, Lifecycle};
pub use snapshot::{AccountKind, AccountSync, DocumentStatus, Everything, ResourceKind, SyncStatus};
