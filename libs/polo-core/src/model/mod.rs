//! What Polo knows about the fleet: instances, indexes, cost rows and the snapshot of all.

pub mod binary;
mod cost;
pub mod cost_binary;
mod cost_store;
mod finding;
mod fleet;
mod frame;
mod history;
mod index;
mod instance;
mod metrics;
mod snapshot;
mod sync_document;
mod tags;
mod text;
mod usage;

pub use crate::listing::Facets;
pub use cost::{CostDimension, CostMetric, CostRow, MONTHLY_RECORD_TYPES};
pub use cost_store::{
    COST_EXPLORER_REQUEST_PRICE_CENTS, COST_STORE_FORMAT, CostFacts, CostStore, CostStoreError, RefreshLog,
    UsageTypes,
};
pub use finding::{Exception, Finding, FindingState, Handling, OpenSummary, Severity};
pub use fleet::{Fleet, index_order};
pub use history::{Change, ChangeKind, Tracked, diff, vanished_ids};
pub use index::{Index, IndexStatus, index_key, resolve};
pub use instance::{Instance, InstanceState, Lifecycle};
pub use metrics::{InstanceMetrics, METRICS_FORMAT, METRICS_PER_CENT, MetricsDocument, OptimizerAdvice};
pub use snapshot::{AccountKind, AccountSync, DocumentStatus, Everything, ResourceKind, SyncStatus};
pub use sync_document::{DocumentError, SYNC_DOCUMENT_FORMAT, SyncDocument};
pub use tags::Tags;
pub use text::Text;
pub use usage::{
    InstanceUsage, Span, TRAIL_EVENT_NAMES, Trail, TrailEvent, USAGE_FORMAT, USAGE_KEEP_DAYS, UsageEvent,
    UsageLedger, actor_of_record,
};
