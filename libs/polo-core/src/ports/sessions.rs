//! Where browser sessions are kept: created at sign-in, read on every request, touched now
//! and then (the idle timeout), revoked at logout or by `polo sessions revoke`. A store keys
//! a session by the SHA-256 of the browser's secret, never the secret itself, so reading the
//! store does not let anyone take a session over. Locally a JSON file under `POLO_STATE`
//! (`sessions.json`), in AWS the session table.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::DataError;

/// What a signed-in person may do: `viewer` reads; `operator` may also act on findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Viewer,
    Operator,
}

impl Role {
    /// `viewer` or `operator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }
}

/// One browser's sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Session {
    /// The hex SHA-256 of the cookie's secret.
    pub id: String,
    /// The `email` claim, else `sub`.
    pub user: String,
    /// The groups the ID token named at sign-in.
    #[serde(default)]
    pub groups: Vec<String>,
    pub role: Role,
    /// The token forms must carry to change anything (logout, later actions).
    pub csrf: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a request last used it (written at most once a minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// The absolute end, whatever the use.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Session {
    /// Whether it still holds at `now`: before its absolute end, and used within `idle`.
    pub fn live_at(&self, now: OffsetDateTime, idle: time::Duration) -> bool {
        now < self.expires_at && now - self.last_seen < idle
    }
}

/// Keeps sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Keeps a new session.
    async fn create(&self, session: &Session) -> Result<(), DataError>;
    /// The session `id` unless revoked or past its absolute end at `now` (the caller checks
    /// the idle timeout, which depends on configuration).
    async fn get(&self, id: &str, now: OffsetDateTime) -> Result<Option<Session>, DataError>;
    /// Records a use at `at`.
    async fn touch(&self, id: &str, at: OffsetDateTime) -> Result<(), DataError>;
    /// Ends the session `id` at `now`; `false` if there was none live.
    async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<bool, DataError>;
    /// Every live session at `now`, newest first.
    async fn list(&self, now: OffsetDateTime) -> Result<Vec<Session>, DataError>;
}

/// Newest first, then by id: how every store lists sessions.
pub fn newest_sessions_first(sessions: &mut [Session]) {
    sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
}

/// Sessions in memory (tests, and a route function's store over local files).
#[derive(Default)]
pub struct MemorySessions {
    sessions: Mutex<Vec<Session>>,
}

impl MemorySessions {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<Session>>, DataError> {
        self.sessions.lock().map_err(|_| DataError::Store("session store lock poisoned".into()))
    }

    fn apply(sessions: &mut Vec<Session>, change: Change<'_>, now: OffsetDateTime) -> bool {
        sessions.retain(|s| s.expires_at > now);
        match change {
            Change::Create(session) => {
                sessions.retain(|s| s.id != session.id);
                sessions.push(session.clone());
                true
            }
            Change::Touch(id) => match sessions.iter_mut().find(|s| s.id == id) {
                Some(s) => {
                    s.last_seen = now;
                    true
                }
                None => false,
            },
            Change::Revoke(id) => {
                let before = sessions.len();
                sessions.retain(|s| s.id != id);
                sessions.len() != before
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Change<'a> {
    Create(&'a Session),
    Touch(&'a str),
    Revoke(&'a str),
}

fn live(sessions: &[Session], now: OffsetDateTime) -> Vec<Session> {
    let mut live: Vec<Session> = sessions.iter().filter(|s| s.expires_at > now).cloned().collect();
    newest_sessions_first(&mut live);
    live
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, session: &Session) -> Result<(), DataError> {
        MemorySessions::apply(&mut *self.lock()?, Change::Create(session), session.created_at);
        Ok(())
    }

    async fn get(&self, id: &str, now: OffsetDateTime) -> Result<Option<Session>, DataError> {
        Ok(self.lock()?.iter().find(|s| s.id == id && s.expires_at > now).cloned())
    }

    async fn touch(&self, id: &str, at: OffsetDateTime) -> Result<(), DataError> {
        MemorySessions::apply(&mut *self.lock()?, Change::Touch(id), at);
        Ok(())
    }

    async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<bool, DataError> {
        Ok(MemorySessions::apply(&mut *self.lock()?, Change::Revoke(id), now))
    }

    async fn list(&self, now: OffsetDateTime) -> Result<Vec<Session>, DataError> {
        Ok(live(&self.lock()?, now))
    }
}

/// Sessions in a JSON file (`{state}/sessions.json`), so `polo sessions` in another process
/// sees and revokes what `polo serve` keeps. One writer at a time within a process; the
/// file is replaced whole, never half-written.
pub struct LocalSessions {
    path: PathBuf,
    lock: Mutex<()>,
}

impl LocalSessions {
    /// The sessions kept under `state_dir`.
    pub fn new(state_dir: &Path) -> LocalSessions {
        LocalSessions { path: state_dir.join("sessions.json"), lock: Mutex::new(()) }
    }

    fn read(&self) -> Result<Vec<Session>, DataError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| DataError::Unreadable {
                source_name: self.path.display().to_string(),
                problem: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(DataError::Unreadable {
                source_name: self.path.display().to_string(),
                problem: e.to_string(),
            }),
        }
    }

    fn change(&self, change: Change<'_>, now: OffsetDateTime) -> Result<bool, DataError> {
        let _one_writer =
            self.lock.lock().map_err(|_| DataError::Store("session file lock poisoned".into()))?;
        let mut sessions = self.read()?;
        let changed = MemorySessions::apply(&mut sessions, change, now);
        let store = |e: std::io::Error| DataError::Store(format!("{}: {e}", self.path.display()));
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(store)?;
        }
        let bytes = serde_json::to_vec_pretty(&sessions).map_err(|e| DataError::Store(e.to_string()))?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(store)?;
        std::fs::rename(&tmp, &self.path).map_err(store)?;
        Ok(changed)
    }
}

#[async_trait]
impl SessionStore for LocalSessions {
    async fn create(&self, session: &Session) -> Result<(), DataError> {
        self.change(Change::Create(session), session.created_at).map(drop)
    }

    async fn get(&self, id: &str, now: OffsetDateTime) -> Result<Option<Session>, DataError> {
        Ok(self.read()?.into_iter().find(|s| s.id == id && s.expires_at > now))
    }

    async fn touch(&self, id: &str, at: OffsetDateTime) -> Result<(), DataError> {
        self.change(Change::Touch(id), at).map(drop)
    }

    async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<bool, DataError> {
        self.change(Change::Revoke(id), now)
    }

    async fn list(&self, now: OffsetDateTime) -> Result<Vec<Session>, DataError> {
        Ok(live(&self.read()?, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-01 12:00 UTC);

    #[tokio::test]
    async fn memory_and_file_sessions_keep_the_session_contract() {
        crate::ports::conformance::sessions(&MemorySessions::default(), NOW).await.unwrap();
        let dir = std::env::temp_dir().join(format!("polo-sessions-{}", std::process::id()));
        crate::ports::conformance::sessions(&LocalSessions::new(&dir), NOW).await.unwrap();
        // Another process (polo sessions) sees what this one kept.
        assert_eq!(LocalSessions::new(&dir).list(NOW).await.unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_session_ends_at_its_absolute_end_or_after_idling() {
        let s = Session {
            id: "x".into(),
            user: "u".into(),
            groups: Vec::new(),
            role: Role::Viewer,
            csrf: "c".into(),
            created_at: NOW,
            last_seen: NOW,
            expires_at: NOW + time::Duration::hours(12),
        };
        let idle = time::Duration::hours(2);
        assert!(s.live_at(NOW + time::Duration::minutes(119), idle));
        assert!(!s.live_at(NOW + time::Duration::minutes(120), idle), "idle too long");
        let used = Session { last_seen: NOW + time::Duration::hours(11), ..s.clone() };
        assert!(used.live_at(NOW + time::Duration::hours(12) - time::Duration::seconds(1), idle));
        assert!(!used.live_at(NOW + time::Duration::hours(12), idle), "absolute end");
    }
}
