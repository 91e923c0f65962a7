//! Requests answered once only: a signed request seen again within its window is a replay.
//! In production the report table (a conditional put, so every container of the function
//! agrees), elsewhere the process's memory (`polo serve` is one process).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::DataError;

/// Keys answered within their window.
#[async_trait]
pub trait Nonces: Send + Sync {
    /// Records `key` at `now`, kept for `window`; `false` when it was already recorded and
    /// is still kept.
    async fn first_time(&self, key: &str, now: OffsetDateTime, window: Duration) -> Result<bool, DataError>;
}

/// Keys in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryNonces(Mutex<HashMap<String, OffsetDateTime>>);

#[async_trait]
impl Nonces for MemoryNonces {
    async fn first_time(&self, key: &str, now: OffsetDateTime, window: Duration) -> Result<bool, DataError> {
        let mut seen = self.0.lock().map_err(|_| DataError::Store("nonce lock poisoned".into()))?;
        seen.retain(|_, until| *until > now);
        if seen.contains_key(key) {
            return Ok(false);
        }
        seen.insert(key.to_owned(), now + window);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn a_key_is_new_once_within_its_window_and_forgotten_after() {
        let nonces = MemoryNonces::default();
        let now = datetime!(2026-11-24 12:00 UTC);
        let window = Duration::minutes(10);
        assert!(nonces.first_time("a", now, window).await.unwrap());
        assert!(!nonces.first_time("a", now + Duration::minutes(9), window).await.unwrap());
        assert!(nonces.first_time("b", now, window).await.unwrap());
        assert!(nonces.first_time("a", now + Duration::minutes(11), window).await.unwrap());
    }
}
