//! `polo sessions list|revoke`: the browser sessions of a deployment (its session table) or
//! of `polo serve` (its state folder). A revoked session is refused on its next request.

use std::sync::Arc;

use anyhow::bail;
use polo_core::ports::{LocalSessions, Session, SessionStore};
use time::OffsetDateTime;

use crate::cli::{Cli, SessionAction};

/// The shortest id prefix `revoke --id` takes: 32 bits, unambiguous among thousands.
const MIN_ID_PREFIX: usize = 8;

/// The store `--table` names, else `polo serve`'s state folder for the bundled sample (or
/// `--state`).
async fn store(cli: &Cli, table: Option<&str>) -> Arc<dyn SessionStore> {
    if let Some(table) = table {
        let client = polo_aws::dynamo_client(&polo_aws::sdk_config().await);
        return Arc::new(polo_aws::SessionTable::new(client, table));
    }
    let data = crate::serve::snapshot_path(None);
    Arc::new(LocalSessions::new(&crate::serve::state_dir(cli.state.as_deref(), &data)))
}

/// One line per session: id (its first 12 characters), user, role, when it started, was
/// last used and ends.
fn line(s: &Session) -> String {
    let at = |t: OffsetDateTime| polo_core::text::rfc3339(t);
    format!(
        "{}  {}  {}  signed in {}  last seen {}  ends {}",
        s.id.get(..12).unwrap_or(&s.id),
        s.user,
        s.role.as_str(),
        at(s.created_at),
        at(s.last_seen),
        at(s.expires_at)
    )
}

/// Which live sessions `user`, `id` and `all` pick; an id prefix must be long enough and
/// match one session only.
fn chosen<'a>(
    live: &'a [Session],
    user: Option<&str>,
    id: Option<&str>,
    all: bool,
) -> anyhow::Result<Vec<&'a Session>> {
    match (user, id, all) {
        (Some(user), None, false) => Ok(live.iter().filter(|s| s.user == user).collect()),
        (None, Some(id), false) => {
            if id.len() < MIN_ID_PREFIX {
                bail!("--id: give at least {MIN_ID_PREFIX} characters of the id `polo sessions list` shows");
            }
            let found: Vec<&Session> = live.iter().filter(|s| s.id.starts_with(id)).collect();
            if found.len() > 1 {
                bail!("--id: {id} starts {} sessions' ids; give more of it", found.len());
            }
            Ok(found)
        }
        (None, None, true) => Ok(live.iter().collect()),
        _ => bail!("revoke needs one of --user EMAIL, --id ID or --all"),
    }
}

/// Runs `polo sessions`.
pub async fn run(
    cli: &Cli,
    action: &SessionAction,
    table: Option<&str>,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let store = store(cli, table).await;
    let live = store.list(now).await?;
    match action {
        SessionAction::List { user } => {
            let shown: Vec<&Session> =
                live.iter().filter(|s| user.as_deref().is_none_or(|u| s.user == u)).collect();
            for s in &shown {
                println!("{}", line(s));
            }
            println!("{} live sessions", shown.len());
        }
        SessionAction::Revoke { user, id, all } => {
            let picked = chosen(&live, user.as_deref(), id.as_deref(), *all)?;
            let mut revoked = 0;
            for s in picked {
                if store.revoke(&s.id, now).await? {
                    println!("revoked {}", line(s));
                    revoked += 1;
                }
            }
            println!("{revoked} sessions revoked");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polo_core::ports::Role;

    fn session(id: &str, user: &str) -> Session {
        let at = time::macros::datetime!(2026-12-01 12:00 UTC);
        Session {
            id: id.to_owned(),
            user: user.to_owned(),
            groups: Vec::new(),
            role: Role::Viewer,
            csrf: "c".into(),
            created_at: at,
            last_seen: at,
            expires_at: at + time::Duration::hours(12),
        }
    }

    #[test]
    fn revoke_picks_by_user_by_unambiguous_id_or_all() {
        let live = [session("aaaa1111bbbb", "ada@example.com"), session("aaaa1111cccc", "bob@example.com")];
        let ids = |v: Vec<&Session>| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(chosen(&live, Some("bob@example.com"), None, false).unwrap()), ["aaaa1111cccc"]);
        assert_eq!(ids(chosen(&live, None, Some("aaaa1111b"), false).unwrap()), ["aaaa1111bbbb"]);
        assert_eq!(chosen(&live, None, None, true).unwrap().len(), 2);
        for (user, id, all, why) in [
            (None, Some("aaaa1111"), false, "give more of it"),
            (None, Some("aaaa"), false, "at least 8"),
            (None, None, false, "needs one of"),
        ] {
            let e = chosen(&live, user, id, all).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
