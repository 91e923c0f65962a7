//! The behaviour every data service shares, as one suite that tests run over each
//! implementation (local snapshot, DynamoDB).

use super::{FleetReader, ResourceReader};
use crate::model::{Everything, Index, Instance, ResourceKind, Tracked as _, index_order, resolve};

fn sorted_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = ids.collect();
    v.sort_unstable();
    v
}

/// Checks that `reader` serves exactly `expected`: the whole fleet, every resource by key,
/// unknown keys as absent, each index's instances, and each resource's history.
pub async fn check<R: FleetReader + ResourceReader + ?Sized>(
    reader: &R,
    expected: &Everything,
) -> Result<(), String> {
    let fleet = reader.fleet().await.map_err(|e| e.to_string())?;
    let got = sorted_ids(fleet.instances().iter().map(|i| i.id.as_str()));
    let want = sorted_ids(expected.instances.iter().map(|i| i.id.as_str()));
    if got != want {
        return Err(format!("fleet instances differ: {} served, {} expected", got.len(), want.len()));
    }
    let got = sorted_ids(fleet.indexes().iter().map(|i| i.index_id.as_str()));
    let want = sorted_ids(expected.indexes.iter().map(|i| i.index_id.as_str()));
    if got != want {
        return Err(format!("fleet indexes differ: {} served, {} expected", got.len(), want.len()));
    }
    if fleet.accounts() != expected.accounts {
        return Err("account sync status differs".into());
    }
    for instance in &expected.instances {
        match reader.instance(&instance.id).await.map_err(|e| e.to_string())? {
            Some(got) if &got == instance => {}
            Some(got) => return Err(format!("instance {} differs: {got:?}", instance.id)),
            None => return Err(format!("instance {} missing", instance.id)),
        }
    }
    for index in &expected.indexes {
        let mut want: Vec<&Index> =
            expected.indexes.iter().filter(|x| x.index_id == index.index_id).collect();
        want.sort_by(|a, b| index_order(a, b));
        let got = reader.indexes(&index.index_id).await.map_err(|e| e.to_string())?;
        if got.iter().collect::<Vec<_>>() != want {
            return Err(format!("index {} differs: {got:?}", index.index_id));
        }
        let mut want: Vec<&Instance> = expected
            .instances
            .iter()
            .filter(|i| {
                i.index.as_deref() == Some(&index.index_id)
                    && resolve(&want, &i.account, &i.region).is_some_and(|x| x == index)
            })
            .collect();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        let got = reader.instances_of_index(index).await.map_err(|e| e.to_string())?;
        if got.iter().collect::<Vec<_>>() != want {
            return Err(format!("instances of {} differ", index.key()));
        }
    }
    if reader.instance("i-0nosuch").await.map_err(|e| e.to_string())?.is_some() {
        return Err("an unknown instance was found".into());
    }
    if !reader.indexes("idx-nosuch").await.map_err(|e| e.to_string())?.is_empty() {
        return Err("an unknown index was found".into());
    }
    if let Some(index) = expected.indexes.first() {
        let elsewhere = Index { account: "nosuch".into(), ..index.clone() };
        if !reader.instances_of_index(&elsewhere).await.map_err(|e| e.to_string())?.is_empty() {
            return Err("an index of an unknown account has instances".into());
        }
    }
    for change in &expected.history {
        let got = reader.history(change.resource, &change.key()).await.map_err(|e| e.to_string())?;
        let mut want: Vec<_> = expected
            .history
            .iter()
            .filter(|c| c.resource == change.resource && c.key() == change.key())
            .collect();
        want.sort_by_key(|c| c.at);
        if got.iter().collect::<Vec<_>>() != want {
            return Err(format!("history of {} differs: {got:?}", change.id));
        }
    }
    if !reader.history(ResourceKind::Instances, "i-0nosuch").await.map_err(|e| e.to_string())?.is_empty() {
        return Err("an unknown instance has history".into());
    }
    Ok(())
}

/// Checks that `store` keeps sessions as every session store must: one created is read back
/// whole; a use moves `last_seen`; a revoked one is gone at once, and revoking it again says
/// so; one past its absolute end is gone for readers; `list` holds the live ones, newest
/// first. `now` is an instant with nothing stored around it (the store may be shared).
pub async fn sessions(store: &dyn super::SessionStore, now: time::OffsetDateTime) -> Result<(), String> {
    use super::{Role, Session};
    let fail = |what: &str, e: super::DataError| format!("{what}: {e}");
    let hour = time::Duration::hours(1);
    let session = |id: &str, user: &str, created: time::OffsetDateTime| Session {
        id: id.to_owned(),
        user: user.to_owned(),
        groups: vec!["polo-operators".to_owned()],
        role: Role::Operator,
        csrf: format!("csrf-{id}"),
        created_at: created,
        last_seen: created,
        expires_at: created + 12 * hour,
    };
    let (a, b, old) = (
        session("a1b2c3d4-a", "ada@example.com", now),
        session("a1b2c3d4-b", "bob@example.com", now + time::Duration::minutes(1)),
        session("a1b2c3d4-o", "old@example.com", now - 13 * hour),
    );
    for s in [&a, &b, &old] {
        store.create(s).await.map_err(|e| fail("create", e))?;
    }
    let read = store.get(&a.id, now).await.map_err(|e| fail("get", e))?;
    if read.as_ref() != Some(&a) {
        return Err(format!("session read back differs: {read:?}"));
    }
    if store.get(&old.id, now).await.map_err(|e| fail("get", e))?.is_some() {
        return Err("a session past its absolute end is still served".into());
    }
    let later = now + time::Duration::minutes(30);
    store.touch(&a.id, later).await.map_err(|e| fail("touch", e))?;
    let touched = store.get(&a.id, later).await.map_err(|e| fail("get", e))?;
    if touched.as_ref().map(|s| s.last_seen) != Some(later) {
        return Err(format!("a use did not move last_seen: {touched:?}"));
    }
    let live: Vec<String> =
        store.list(later).await.map_err(|e| fail("list", e))?.into_iter().map(|s| s.id).collect();
    if live != [b.id.clone(), a.id.clone()] {
        return Err(format!("live sessions, newest first, expected [b, a], got {live:?}"));
    }
    if !store.revoke(&a.id, later).await.map_err(|e| fail("revoke", e))? {
        return Err("revoking a live session said there was none".into());
    }
    if store.get(&a.id, later).await.map_err(|e| fail("get", e))?.is_some() {
        return Err("a revoked session is still served".into());
    }
    if store.revoke(&a.id, later).await.map_err(|e| fail("revoke", e))? {
        return Err("revoking twice said the second one ended a session".into());
    }
    store.touch(&a.id, later).await.map_err(|e| fail("touch after revoke", e))?;
    if store.get(&a.id, later).await.map_err(|e| fail("get", e))?.is_some() {
        return Err("a use brought a revoked session back".into());
    }
    if store.revoke("a1b2c3d4-none", later).await.map_err(|e| fail("revoke", e))? {
        return Err("revoking an unknown session said it ended one".into());
    }
    Ok(())
}
