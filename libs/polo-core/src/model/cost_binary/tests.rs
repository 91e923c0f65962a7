use std::collections::BTreeMap;

use proptest::prelude::*;
use time::macros::{date, datetime};

use super::super::frame::{HEADER_LEN, Kind};
use super::{MAGIC, VERSION, decode, encode, is_binary};
use crate::model::{CostDimension, CostMetric, CostStore, UsageTypes};
use crate::sample::{Scale, generate_with_costs};

fn large() -> CostStore {
    generate_with_costs(42, Scale::Large, datetime!(2026-11-24 12:00 UTC)).1
}

/// A store with every field set, and the cents that stretch the encoding.
fn every_field() -> CostStore {
    let mut store = CostStore::empty();
    store.first_day = date!(2026 - 10 - 01);
    store.days = 4;
    store.metric = CostMetric::Amortized;
    store.estimated = vec![date!(2026 - 10 - 03), date!(2026 - 10 - 04)];
    store.fetched_at = Some(datetime!(2026-10-05 06:00 UTC));
    store.refresh.record(datetime!(2026-10-05 06:00 UTC), 7, Some("throttled".into()));
    store.usage_types.insert(
        "idx-a".into(),
        UsageTypes {
            first_day: date!(2026 - 10 - 01),
            days: 2,
            by_type: BTreeMap::from([("USE1-BoxUsage:m5.large".into(), vec![100, 200])]),
        },
    );
    let index = BTreeMap::from([
        // The unattributed remainder, credits, the extremes, and series shorter than the store.
        (String::new(), vec![5, -3, 0, 12]),
        ("idx-a".to_owned(), vec![i64::MAX, i64::MIN, 0, -1]),
        ("idx-ü".to_owned(), vec![]),
        ("idx-b".to_owned(), vec![1]),
    ]);
    store.dimensions.insert(CostDimension::Index, index);
    store.dimensions.insert(CostDimension::Charge, BTreeMap::from([("Credit".to_owned(), vec![-500; 4])]));
    store
}

/// `bytes` with a new checksum over their body (the frame's own sealing).
fn sealed(mut bytes: Vec<u8>) -> Vec<u8> {
    Kind::seal(&mut bytes);
    bytes
}

#[test]
fn the_large_sample_reads_back_equal_and_smaller_than_json() {
    let store = large();
    let bytes = encode(&store);
    assert!(is_binary(&bytes));
    assert_eq!(decode(&bytes).unwrap(), store);
    let json = serde_json::to_vec(&store).unwrap();
    assert!(bytes.len() * 2 < json.len(), "{} bytes against JSON's {}", bytes.len(), json.len());
}

#[test]
fn every_field_and_the_extremes_read_back_equal() {
    let store = every_field();
    assert_eq!(decode(&encode(&store)).unwrap(), store);
    assert_eq!(decode(&encode(&CostStore::empty())).unwrap(), CostStore::empty());
}

#[test]
fn a_newer_version_is_refused_by_name() {
    let mut bytes = encode(&every_field());
    bytes[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert!(error.contains(&format!("version {}", VERSION + 1)) && error.contains("newer"), "{error}");
}

#[test]
fn every_truncation_and_a_flipped_byte_are_refused() {
    let bytes = encode(&every_field());
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(decode(&flipped).unwrap_err().contains("checksum"));
}

#[test]
fn json_and_the_snapshot_are_not_a_binary_cost_store() {
    let json = serde_json::to_vec(&every_field()).unwrap();
    assert!(!is_binary(&json));
    assert!(decode(&json).unwrap_err().contains("not a Polo binary cost store"));
    let snapshot = generate_with_costs(7, Scale::Small, datetime!(2026-11-24 12:00 UTC)).0;
    assert!(!is_binary(&crate::model::binary::encode(&snapshot)));
    assert!(MAGIC.iter().all(u8::is_ascii_uppercase));
}

#[test]
fn a_count_of_days_the_bytes_cannot_hold_is_refused_before_it_is_allocated() {
    let mut store = CostStore::empty();
    store.dimensions.insert(CostDimension::Account, BTreeMap::from([("1".to_owned(), vec![7])]));
    let bytes = encode(&store);
    // The day count sits just before the last value (one byte): make it 2^32 - 1.
    let at = bytes.len() - 1 - 4;
    assert_eq!(bytes[at..at + 4], 1u32.to_le_bytes());
    let mut huge = bytes.clone();
    huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = decode(&sealed(huge)).unwrap_err();
    assert!(error.contains("4294967295 days") && error.contains("\"1\""), "{error}");
}

#[test]
fn a_head_with_columns_or_a_dimension_or_key_twice_is_refused() {
    use super::{COSTS, Head};
    let write = |head: &Head, body: &[u8]| {
        let head = serde_json::to_vec(head).unwrap();
        let mut out = COSTS.start(0);
        out.extend_from_slice(&(head.len() as u64).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(body);
        Kind::seal(&mut out);
        out
    };
    // One key, "k", of one day worth 1 (zigzag 2).
    let key = [1, 0, 0, 0, b'k', 1, 0, 0, 0, 2];
    let with_columns = Head { store: every_field(), dimensions: Vec::new() };
    assert!(decode(&write(&with_columns, &[])).unwrap_err().contains("columns"));
    let twice = Head {
        store: CostStore::empty(),
        dimensions: vec![(CostDimension::Index, 1), (CostDimension::Index, 1)],
    };
    assert!(decode(&write(&twice, &[key, key].concat())).unwrap_err().contains("dimension index twice"));
    let key_twice = Head { store: CostStore::empty(), dimensions: vec![(CostDimension::Index, 2)] };
    assert!(decode(&write(&key_twice, &[key, key].concat())).unwrap_err().contains("a key twice"));
    let once = Head { store: CostStore::empty(), dimensions: vec![(CostDimension::Index, 1)] };
    let back = decode(&write(&once, &key)).unwrap();
    assert_eq!(back.dimensions[&CostDimension::Index]["k"], vec![1]);
    assert!(decode(&write(&once, &[key.as_slice(), &[0]].concat())).unwrap_err().contains("left over"));
    // Ten bytes that carry more than 64 bits.
    let wide = [&key[..9], &[0xff; 9], &[2]].concat();
    assert!(decode(&write(&once, &wide)).unwrap_err().contains("64 bits"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_cents_read_back_equal(series in proptest::collection::vec(proptest::collection::vec(any::<i64>(), 0..40), 0..6)) {
        let mut store = CostStore::empty();
        let keys = series.into_iter().enumerate().map(|(n, s)| (format!("key-{n}"), s)).collect();
        store.dimensions.insert(CostDimension::Service, keys);
        prop_assert_eq!(decode(&encode(&store)).unwrap(), store);
    }

    #[test]
    fn a_damaged_body_with_a_valid_checksum_never_panics(
        at in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = encode(&every_field());
        let i = HEADER_LEN + at.index(bytes.len() - HEADER_LEN);
        bytes[i] = byte;
        // Refused or read: never a panic.
        let _ = decode(&sealed(bytes));
    }
}
