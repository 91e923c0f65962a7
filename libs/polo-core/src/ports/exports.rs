//! Downloads too large for one Lambda answer (6 MB), parked in the data bucket under
//! `exports/` and handed out by a short-lived presigned URL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::DataError;

/// Where large exports go.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Stores `bytes` as a download named `filename` and returns a URL it can be fetched
    /// from for a short while.
    async fn publish(
        &self,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, DataError>;
}
