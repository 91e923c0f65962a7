//! The cost store as route functions read it: a binary layout the sync writes beside the
//! JSON one (`costs.bin` beside `costs.json`, which stays for people, scripts and the sync's
//! own next run). Parsing JSON numbers is most of what a cost page's cold start spends on
//! the store; here each day's cents is the difference from the day before, as a
//! variable-length integer, read without parsing text and smaller than the JSON.
//!
//! ```text
//! header (32 bytes, [`super::frame`]): "POLOCOST" · version u32 · flags u32 (0) · body length u64 · CRC-32 of the body u32 · 0 u32
//! body:  head u64 length · JSON: the store but its columns, and each dimension with its key count, in order
//!        per dimension, per key: key length u32 · UTF-8 · days u32 · each day's cents as the
//!        zigzag LEB128 of its difference from the day before (the first day's from 0)
//! ```
//!
//! A file of another version, a truncated one or one whose checksum fails is refused with an
//! error naming the problem, never misread; so is a store whose head holds columns, names a
//! dimension twice, or a key twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::frame::{Kind, Reader, put_u32, put_u64};
use super::{CostDimension, CostStore};

/// What every binary cost store starts with.
pub const MAGIC: &[u8; 8] = b"POLOCOST";

/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;

const COSTS: Kind = Kind { magic: MAGIC, version: VERSION, name: "binary cost store" };

/// Whether `bytes` claim to be a binary cost store (of any version).
pub fn is_binary(bytes: &[u8]) -> bool {
    COSTS.is(bytes)
}

/// The store's own fields, and how its columns follow.
#[derive(Serialize, Deserialize)]
struct Head {
    /// The store with no dimensions (its columns are the body's).
    store: CostStore,
    /// Each dimension and how many keys it has, in the order their columns follow.
    dimensions: Vec<(CostDimension, u32)>,
}

/// `store` in the binary layout.
pub fn encode(store: &CostStore) -> Vec<u8> {
    // Every field named: one added to the store must be placed here, or this does not compile.
    let CostStore {
        format,
        currency,
        first_day,
        days,
        dimensions,
        metric,
        estimated,
        fetched_at,
        refresh,
        usage_types,
    } = store;
    let head = Head {
        store: CostStore {
            format: *format,
            currency: currency.clone(),
            first_day: *first_day,
            days: *days,
            dimensions: BTreeMap::new(),
            metric: *metric,
            estimated: estimated.clone(),
            fetched_at: *fetched_at,
            refresh: refresh.clone(),
            usage_types: usage_types.clone(),
        },
        dimensions: dimensions.iter().map(|(d, keys)| (*d, len32(keys.len()))).collect(),
    };
    // Serializing plain data to memory cannot fail.
    let head = serde_json::to_vec(&head).unwrap_or_default();
    let values: usize = dimensions.values().flat_map(|keys| keys.values()).map(Vec::len).sum();
    let mut out = COSTS.start(8 + head.len() + 2 * values);
    put_u64(&mut out, head.len() as u64);
    out.extend_from_slice(&head);
    for keys in dimensions.values() {
        for (key, series) in keys {
            put_u32(&mut out, len32(key.len()));
            out.extend_from_slice(key.as_bytes());
            put_u32(&mut out, len32(series.len()));
            let mut previous = 0i64;
            for &cents in series {
                put_varint(&mut out, zigzag(cents.wrapping_sub(previous)));
                previous = cents;
            }
        }
    }
    Kind::seal(&mut out);
    out
}

/// The store in `bytes`, or what is wrong with them (one line).
pub fn decode(bytes: &[u8]) -> Result<CostStore, String> {
    let mut r = Reader { buf: COSTS.body(bytes)?, pos: 0 };
    let head_len = r.len64("the head")?;
    let Head { mut store, dimensions } =
        crate::json::decode(r.take(head_len, "the head")?).map_err(|e| format!("the head: {e}"))?;
    if !store.dimensions.is_empty() {
        return Err("the head holds columns of its own".into());
    }
    for (dimension, count) in dimensions {
        let mut keys = BTreeMap::new();
        for _ in 0..count {
            let what = || format!("a key of {dimension}");
            let len = r.u32(&what())? as usize;
            let key = std::str::from_utf8(r.take(len, &what())?)
                .map_err(|e| format!("{}: not UTF-8: {e}", what()))?
                .to_owned();
            let days = r.u32(&what())? as usize;
            let series = read_series(&mut r, days).map_err(|e| format!("{dimension} {key:?}: {e}"))?;
            if keys.insert(key, series).is_some() {
                return Err(format!("{dimension}: a key twice"));
            }
        }
        if store.dimensions.insert(dimension, keys).is_some() {
            return Err(format!("the dimension {dimension} twice"));
        }
    }
    r.finish("the last column")?;
    Ok(store)
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)).cast_unsigned()
}

fn unzigzag(n: u64) -> i64 {
    (n >> 1).cast_signed() ^ -((n & 1).cast_signed())
}

#[allow(clippy::cast_possible_truncation)] // the low seven bits, then what is left (under 0x80)
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// `days` values, each a difference from the one before.
fn read_series(r: &mut Reader<'_>, days: usize) -> Result<Vec<i64>, String> {
    // Each day takes a byte at least: a count the bytes left cannot hold is refused before
    // anything is allocated for it.
    if days > r.left() {
        return Err(format!("{days} days, and {} bytes are left", r.left()));
    }
    let (buf, mut pos) = (r.buf, r.pos);
    let mut series = Vec::with_capacity(days);
    let mut previous = 0i64;
    for day in 0..days {
        let mut n = 0u64;
        let mut shift = 0u32;
        loop {
            let &b = buf.get(pos).ok_or_else(|| format!("day {day}: the bytes run out"))?;
            pos += 1;
            if shift == 63 && b > 1 {
                return Err(format!("day {day}: more than 64 bits"));
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        previous = previous.wrapping_add(unzigzag(n));
        series.push(previous);
    }
    r.pos = pos;
    Ok(series)
}

#[cfg(test)]
mod tests;
