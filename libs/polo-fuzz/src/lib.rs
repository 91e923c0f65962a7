//! What the fuzz tests share (dev-dependency only). Each outside input of Polo has a
//! `fuzz_*` property test beside its parser: arbitrary inputs, and seed inputs from
//! `fuzz/seeds/` with random edits. None may panic; each refusal must say what was wrong.
//!
//! The test command runs a short round ([`cases`]); `just fuzz` sets `POLO_FUZZ_CASES`
//! for a long one.

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The cases a fuzz test runs: `POLO_FUZZ_CASES` when set, else `short` (the test command).
pub fn cases(short: u32) -> u32 {
    std::env::var("POLO_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(short)
}

/// A proptest configuration of [`cases`], without failure persistence files (a failure
/// prints its minimal input; it becomes a named regression test).
pub fn config(short: u32) -> Config {
    Config { cases: cases(short), failure_persistence: None, ..Config::default() }
}

/// The seed `name` of `fuzz/seeds/`, found from the package under test (cargo sets its
/// `CARGO_MANIFEST_DIR` when it runs the tests) up to the workspace root. The directory
/// this crate was compiled in is only the fallback: a build cached from another checkout
/// must not send the tests to a directory that is gone.
///
/// # Panics
/// When the seed is missing (a broken checkout, not an input).
#[allow(clippy::expect_used)]
pub fn seed(name: &str) -> Vec<u8> {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from);
    let path = start
        .ancestors()
        .map(|dir| dir.join("fuzz/seeds").join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(name)
        });
    std::fs::read(&path).unwrap_or_else(|e| panic!("fuzz seed {}: {e}", path.display()))
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (at, prop::collection::vec(interesting_byte(), 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (at, 1..16usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        at.prop_map(Edit::Truncate),
        (at, 1..64usize).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

/// Bytes that matter to the formats Polo reads: quotes, brackets, separators, escapes,
/// digits, signs, UTF-8 lead bytes, NUL.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"\"'{}[]:,=\\/.-+0123456789eE\n\r\t #%&?$\0".to_vec()),
        Just(0xC3u8),
        Just(0xFFu8),
        any::<u8>(),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match e {
            Edit::Flip(i, b) if len > 0 => bytes[i % len] = *b,
            Edit::Flip(..) => {}
            Edit::Insert(i, b) => {
                let i = at(*i);
                bytes.splice(i..i, b.iter().copied());
            }
            Edit::Delete(i, n) => {
                let i = at(*i);
                bytes.drain(i..(i + n).min(len));
            }
            Edit::Truncate(i) => bytes.truncate(at(*i)),
            Edit::Duplicate(i, n) => {
                let i = at(*i);
                let chunk: Vec<u8> = bytes[i..(i + n).min(len)].to_vec();
                bytes.splice(i..i, chunk);
            }
        }
    }
    bytes
}

/// `seed` with one to eight random edits.
pub fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit(), 1..8).prop_map(move |edits| apply(seed.clone(), &edits))
}

/// `seed` with random edits, kept only where the result is still text.
pub fn mutated_text(seed: Vec<u8>) -> impl Strategy<Value = String> {
    mutated(seed).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// One structural edit of a JSON document: at the node reached by `path` (each number picks a
/// child, modulo their count), replace it, remove it from its parent, or add a member.
#[derive(Clone, Debug)]
enum JsonEdit {
    Replace(Vec<usize>, serde_json::Value),
    Remove(Vec<usize>),
    Add(Vec<usize>, String, serde_json::Value),
}

fn node_at<'a>(doc: &'a mut serde_json::Value, path: &[usize]) -> &'a mut serde_json::Value {
    // The child positions along `path`, resolved first on a shared borrow.
    let mut steps = Vec::new();
    let mut node = &*doc;
    for step in path {
        node = match node {
            serde_json::Value::Array(a) if !a.is_empty() => {
                steps.push(step % a.len());
                &a[step % a.len()]
            }
            serde_json::Value::Object(o) if !o.is_empty() => {
                steps.push(step % o.len());
                match o.values().nth(step % o.len()) {
                    Some(child) => child,
                    None => break,
                }
            }
            _ => break,
        };
    }
    let mut node = doc;
    for i in steps {
        node = match node {
            serde_json::Value::Array(a) => &mut a[i],
            serde_json::Value::Object(o) => {
                let key = o.keys().nth(i).cloned().unwrap_or_default();
                o.entry(key).or_insert(serde_json::Value::Null)
            }
            other => other,
        };
    }
    node
}

fn apply_json(mut doc: serde_json::Value, edits: Vec<JsonEdit>) -> serde_json::Value {
    for e in edits {
        match e {
            JsonEdit::Replace(path, value) => *node_at(&mut doc, &path) = value,
            JsonEdit::Remove(path) => {
                let (last, parent) = path.split_last().map_or((0, &[][..]), |(l, p)| (*l, p));
                match node_at(&mut doc, parent) {
                    serde_json::Value::Array(a) if !a.is_empty() => {
                        let i = last % a.len();
                        a.remove(i);
                    }
                    serde_json::Value::Object(o) if !o.is_empty() => {
                        let key = o.keys().nth(last % o.len()).cloned().unwrap_or_default();
                        o.remove(&key);
                    }
                    _ => {}
                }
            }
            JsonEdit::Add(path, key, value) => match node_at(&mut doc, &path) {
                serde_json::Value::Object(o) => {
                    o.insert(key, value);
                }
                serde_json::Value::Array(a) => a.push(value),
                _ => {}
            },
        }
    }
    doc
}

/// `seed` (a JSON document) with one to six structural edits whose new values and member
/// names are drawn from [`json_value`] and `keys`: always JSON, rarely the seed's shape.
pub fn mutated_json(
    seed: serde_json::Value,
    keys: &'static [&'static str],
) -> impl Strategy<Value = serde_json::Value> {
    let path = prop::collection::vec(any::<usize>(), 0..5);
    let key = prop_oneof![prop::sample::select(keys).prop_map(str::to_owned), any::<String>()];
    let edit = prop_oneof![
        (path.clone(), json_value(keys)).prop_map(|(p, v)| JsonEdit::Replace(p, v)),
        path.clone().prop_map(JsonEdit::Remove),
        (path, key, json_value(keys)).prop_map(|(p, k, v)| JsonEdit::Add(p, k, v)),
    ];
    prop::collection::vec(edit, 1..6).prop_map(move |edits| apply_json(seed.clone(), edits))
}

/// Any JSON value, nested a few levels, with strings drawn from names a parser looks for
/// (`keys`) and arbitrary ones.
pub fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = serde_json::Value> {
    let text = prop_oneof![prop::sample::select(keys).prop_map(str::to_owned), any::<String>()];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        text.clone().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((text.clone(), inner), 0..8)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_within_the_input() {
        let s = b"{\"a\":1}".to_vec();
        for e in
            [Edit::Delete(100, 50), Edit::Truncate(3), Edit::Duplicate(6, 40), Edit::Insert(99, vec![b'x'])]
        {
            let _ = apply(s.clone(), &[e]);
        }
        assert_eq!(apply(Vec::new(), &[Edit::Flip(3, 1), Edit::Delete(0, 4)]), Vec::<u8>::new());
    }
}
