use proptest::prelude::*;
use time::macros::datetime;

use super::super::frame::Kind;
use super::{HEADER_LEN, MAGIC, VERSION, decode, encode, is_binary, open};
use crate::model::{Everything, Text};
use crate::sample::{Scale, generate};

fn small() -> Everything {
    generate(7, Scale::Small, datetime!(2026-11-24 12:00 UTC))
}

#[test]
fn the_large_sample_reads_back_equal() {
    let everything = generate(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    assert!(!everything.history.is_empty());
    let bytes = encode(&everything);
    assert!(is_binary(&bytes));
    assert_eq!(decode(&bytes).unwrap(), everything);
    // As production writes it (history lives in the resource table): under half of JSON's size.
    let production = Everything { history: Vec::new(), ..everything };
    let (bytes, json) = (encode(&production), serde_json::to_vec(&production).unwrap());
    assert!(bytes.len() * 2 < json.len(), "{} bytes against JSON's {}", bytes.len(), json.len());
}

#[test]
fn what_json_cannot_tell_apart_reads_back_too() {
    let mut everything = small();
    // Offsets, nanoseconds, missing optional fields, empty strings and no tags at all.
    let first = &mut everything.instances[0];
    first.launch_time = datetime!(2025-03-04 05:06:07.123456789 +05:30);
    first.state_since = None;
    first.name = None;
    first.private_ip = None;
    first.owner = Some(Text::default());
    first.tags.clear();
    everything.instances[1].tags.insert("ünïcode ✓".into(), Text::default());
    everything.indexes[0].status_since = Some(datetime!(1970-01-01 00:00 UTC));
    everything.indexes[0].name = "名前".into();
    assert_eq!(decode(&encode(&everything)).unwrap(), everything);
    let empty = Everything { instances: vec![], indexes: vec![], ..small() };
    assert_eq!(decode(&encode(&empty)).unwrap(), empty);
}

#[test]
fn a_newer_version_is_refused_by_name() {
    let mut bytes = encode(&small());
    bytes[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert!(error.contains(&format!("version {}", VERSION + 1)) && error.contains("newer"), "{error}");
}

#[test]
fn unknown_flags_or_header_words_are_refused() {
    for (at, what) in [(12, "unknown flags"), (28, "unknown header word")] {
        let mut bytes = encode(&small());
        bytes[at] = 1;
        let error = decode(&bytes).unwrap_err();
        assert!(error.contains(what), "{error}");
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = encode(&small());
    let cuts = (0..HEADER_LEN + 8).chain((HEADER_LEN..bytes.len()).step_by(997)).chain([bytes.len() - 1]);
    for cut in cuts {
        let error = decode(&bytes[..cut]).unwrap_err();
        assert!(error.contains("truncated") || error.contains("not a Polo"), "cut at {cut}: {error}");
    }
}

#[test]
fn a_flipped_byte_fails_the_checksum() {
    let mut bytes = encode(&small());
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    assert!(decode(&bytes).unwrap_err().contains("checksum"));
}

#[test]
fn json_is_not_binary() {
    let json = serde_json::to_vec(&small()).unwrap();
    assert!(!is_binary(&json));
    assert!(decode(&json).unwrap_err().contains("not a Polo binary snapshot"));
    assert!(MAGIC.iter().all(u8::is_ascii_uppercase));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A body damaged in ways the checksum cannot catch (rewritten with a fresh one) is refused
    /// or read, never a panic or a read past the end.
    #[test]
    fn a_damaged_body_with_a_valid_checksum_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = encode(&Everything { instances: small().instances.into_iter().take(20).collect(), ..small() });
        for (at, value) in flips {
            let i = HEADER_LEN + at.index(bytes.len() - HEADER_LEN);
            bytes[i] = value;
        }
        Kind::seal(&mut bytes);
        let _ = decode(&bytes);
    }

    /// Opening checks the instances without building them; the build later must not find a
    /// problem the opening missed. Damage to the instance and index columns (checksum
    /// rewritten): opening refuses exactly what decoding refuses, and what it accepts builds,
    /// whole or a page at a time, to what decoding reads.
    #[test]
    fn opening_refuses_exactly_what_decoding_refuses(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)
    ) {
        let mut bytes = encode(&Everything { instances: small().instances.into_iter().take(20).collect(), ..small() });
        let Ok(super::Opened { pending: Some(pending), .. }) = open(bytes.clone()) else {
            panic!("the sample opens lazily")
        };
        let from = HEADER_LEN + pending.instances_at;
        let span = bytes.len() - from;
        for (at, value) in flips {
            bytes[from + at.index(span)] = value;
        }
        Kind::seal(&mut bytes);
        match (decode(&bytes), open(bytes)) {
            (Ok(decoded), Ok(super::Opened { everything: mut opened, pending, .. })) => {
                if let Some(pending) = pending {
                    // Any page of it builds alone to the rows decoding reads there.
                    let n = decoded.instances.len();
                    for from in (0..n).step_by(7) {
                        let page = pending.build_range(from..from + 7).expect("opened, so a page builds");
                        prop_assert_eq!(page.as_slice(), &decoded.instances[from..(from + 7).min(n)]);
                    }
                    opened.instances = pending.build().expect("opened, so it builds");
                }
                prop_assert_eq!(opened, decoded);
            }
            (Err(_), Err(_)) => {}
            (decoded, opened) => prop_assert!(false, "decode {:?} but open {:?}", decoded.err(), opened.err()),
        }
    }
}

#[test]
fn opening_leaves_the_instances_to_build_and_they_build_equal() {
    let everything = generate(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    let super::Opened { everything: opened, pending, counts, instance_facets } =
        open(encode(&everything)).unwrap();
    assert!(counts.is_none() && instance_facets.is_none(), "written without what first pages count");
    assert!(opened.instances.is_empty());
    assert_eq!(opened.indexes, everything.indexes);
    assert_eq!(opened.accounts, everything.accounts);
    assert_eq!(pending.expect("the sync writes ids in order").build().unwrap(), everything.instances);
}

#[test]
fn any_range_of_the_instances_builds_alone_equal_to_its_slice() {
    let everything = small();
    let super::Opened { pending, .. } = open(encode(&everything)).unwrap();
    let pending = pending.unwrap();
    let n = everything.instances.len();
    assert_eq!(pending.len(), n);
    for (from, to) in
        [(0, 0), (0, 1), (0, 50), (1, 2), (7, 19), (n - 1, n), (n - 3, n + 40), (n, n + 50), (n + 9, n + 99)]
    {
        let want = &everything.instances[from.min(n)..to.min(n)];
        assert_eq!(pending.build_range(from..to).unwrap(), want, "{from}..{to}");
    }
    assert_eq!(pending.build_range(0..usize::MAX).unwrap(), everything.instances);
}

#[test]
fn instances_out_of_id_order_are_built_at_once() {
    let mut everything = small();
    everything.instances.reverse();
    let super::Opened { everything: opened, pending, .. } = open(encode(&everything)).unwrap();
    assert!(pending.is_none());
    assert_eq!(opened.instances, everything.instances);
}

#[test]
fn a_small_file_cannot_ask_for_gigabytes_of_strings() {
    let mut everything = small();
    let long = "x".repeat(100_000);
    // Copied per row: the address (an id is unique, an address need not be).
    for i in &mut everything.instances {
        i.private_ip = Some(long.clone());
    }
    let error = decode(&encode(&everything)).unwrap_err();
    assert!(error.contains("times the file's size"), "{error}");
    let error = open(encode(&everything)).unwrap_err();
    assert!(error.contains("times the file's size"), "opening charges the build's copies: {error}");
}

#[test]
fn rows_share_the_one_copy_of_each_repeated_string() {
    let mut everything = small();
    // Shared, not copied: a long zone on every row costs its length once.
    let long = "x".repeat(100_000);
    for i in &mut everything.instances {
        i.az = Text::from(long.as_str());
    }
    let back = decode(&encode(&everything)).unwrap();
    assert_eq!(back, everything);
    let (a, b) = (&back.instances[0], &back.instances[1]);
    assert!(std::ptr::eq(a.az.as_str(), b.az.as_str()));
    let same_account = back.instances.iter().filter(|i| i.account == a.account).nth(1).unwrap();
    assert!(std::ptr::eq(a.account.as_str(), same_account.account.as_str()));
    let (ka, kb) = (a.tags.keys().next().unwrap(), b.tags.keys().next().unwrap());
    assert_eq!(ka, kb);
    assert!(std::ptr::eq(ka.as_str(), kb.as_str()), "tag keys are shared too");
}

#[test]
fn a_fleet_opened_builds_its_instances_only_when_a_page_asks() {
    let everything = small();
    let fleet = crate::model::Fleet::open_binary(encode(&everything)).unwrap();
    let eager = crate::model::Fleet::new(everything.clone());
    // What the cost pages and the accounts' freshness read.
    assert_eq!(fleet.generated_at(), eager.generated_at());
    assert_eq!(fleet.accounts(), eager.accounts());
    assert_eq!(fleet.indexes(), eager.indexes());
    let id = &everything.indexes[0].index_id;
    assert_eq!(fleet.index(id), eager.index(id));
    assert_eq!(fleet.costs_as_of(), eager.costs_as_of());
    assert_eq!(fleet.index_cost_last_30_days(id), eager.index_cost_last_30_days(id));
    // One page of instances is built alone, and still leaves the rest unbuilt.
    let (page, total) = fleet.pending_instances(50..100).unwrap();
    assert_eq!((page.as_slice(), total), (&eager.instances()[50..100], eager.instances().len()));
    assert!(!fleet.instances_built(), "nothing above reads an instance");
    assert_eq!(fleet.instances(), eager.instances());
    assert!(fleet.instances_built());
    assert!(fleet.pending_instances(0..50).is_none(), "built: pages read them there");
    for index in eager.indexes() {
        assert_eq!(fleet.instance_count_of(index), eager.instance_count_of(index));
        assert!(fleet.instances_of(index).eq(eager.instances_of(index)));
    }
    assert_eq!(fleet.to_everything(), eager.to_everything());
}

#[test]
fn a_fleet_opened_from_instances_out_of_order_sorts_them() {
    let mut everything = small();
    everything.instances.reverse();
    let fleet = crate::model::Fleet::open_binary(encode(&everything)).unwrap();
    assert!(fleet.instances().is_sorted_by(|a, b| a.id <= b.id));
    assert_eq!(fleet.instances(), crate::model::Fleet::new(everything).instances());
}

#[test]
fn the_syncs_counts_are_what_a_route_function_counts_at_the_same_prices() {
    use crate::pricing::{PriceTable, SpotDiscount};
    let everything = generate(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    let prices = PriceTable::bundled().unwrap();
    let fleet = crate::model::Fleet::open_binary(super::encode_for_pages(&everything, &prices)).unwrap();
    let counted = fleet.counted(&prices).expect("priced alike").clone();
    assert!(!fleet.instances_built(), "taking the counts builds no instance");
    assert_eq!(counted, crate::summary::count(&crate::model::Fleet::new(everything.clone()), &prices));
    // Another spot discount prices spot instances otherwise: those counts are not taken.
    let other =
        prices.clone().with_spot_discount(SpotDiscount::new(rust_decimal::Decimal::new(1, 1)).unwrap());
    assert!(fleet.counted(&other).is_none());
    // The counts ride beside the snapshot: decoding gives the same snapshot either way.
    assert_eq!(decode(&super::encode_for_pages(&everything, &prices)).unwrap(), everything);
    assert!(crate::model::Fleet::open_binary(encode(&everything)).unwrap().counted(&prices).is_none());
}

#[test]
fn the_syncs_facets_are_what_a_route_function_counts() {
    let everything = generate(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    let prices = crate::pricing::PriceTable::bundled().unwrap();
    let fleet = crate::model::Fleet::open_binary(super::encode_for_pages(&everything, &prices)).unwrap();
    let none = crate::listing::Filters::default();
    let taken = fleet.instance_facets_for(&none).into_owned();
    assert!(!fleet.instances_built(), "taking the facets builds no instance");
    let counted = crate::model::Fleet::new(everything);
    assert_eq!(taken, *counted.instance_facets_for(&none));
    assert!(!taken[&crate::listing::FilterField::Account].is_empty());
}

#[test]
fn opening_charges_the_instances_and_the_indexes_one_budget() {
    // The budget is 16 times the body. Every row's address is one long string (stored once,
    // copied per row) worth 10 bodies: they fit alone. Every index's name is another, which
    // tips the total over: both readers refuse the file.
    let mut everything = small();
    let (b, rows, indexes) =
        (encode(&everything).len(), everything.instances.len(), everything.indexes.len());
    assert!(rows > super::EXPANSION && indexes > super::EXPANSION);
    let address = "x".repeat(10 * b / rows);
    for i in &mut everything.instances {
        i.private_ip = Some(address.clone());
    }
    let fits = encode(&everything);
    assert!(decode(&fits).is_ok() && open(fits).is_ok(), "the addresses alone fit");
    let name = "y".repeat((6 * b + super::EXPANSION * address.len()) / (indexes - super::EXPANSION) + 1);
    for x in &mut everything.indexes {
        x.name.clone_from(&name);
    }
    let over = encode(&everything);
    let (decoded, opened) = (decode(&over).unwrap_err(), open(over).unwrap_err());
    assert!(decoded.contains("times the file's size"), "{decoded}");
    assert!(opened.contains("times the file's size"), "opening charges the same budget: {opened}");
}

#[test]
fn a_string_both_a_field_and_a_tag_is_shared_and_charged_once_alike() {
    let mut everything = small();
    for i in &mut everything.instances {
        let name = i.name.clone().unwrap_or_else(|| Text::from("unnamed"));
        i.tags.insert(name.clone(), name);
    }
    let bytes = encode(&everything);
    let decoded = decode(&bytes).unwrap();
    let super::Opened { pending, .. } = open(bytes).unwrap();
    assert_eq!(pending.expect("in id order").build().unwrap(), decoded.instances);
    let i = &decoded.instances[0];
    let name = i.name.as_ref().unwrap();
    let (key, value) = i.tags.get_key_value(name.as_str()).unwrap();
    assert!(std::ptr::eq(name.as_str(), key.as_str()) && std::ptr::eq(name.as_str(), value.as_str()));
}

#[test]
fn a_precomputed_part_of_an_unknown_shape_is_counted_again_not_refused() {
    let everything = small();
    let prices = crate::pricing::PriceTable::bundled().unwrap();
    let mut bytes = super::encode_for_pages(&everything, &prices);
    // A newer sync's facets, say, with a field this build does not know (same length, so the
    // layout's offsets hold); the checksum rewritten.
    let at = bytes.windows(19).position(|w| w == br#""instance_facets":{"#).unwrap();
    let field = at + 19 + bytes[at + 19..].iter().position(|&b| b == b'"').unwrap() + 1;
    bytes[field] = b'#';
    Kind::seal(&mut bytes);
    let opened = open(bytes).unwrap();
    assert!(opened.instance_facets.is_none(), "not read as facets");
    assert!(opened.counts.is_some(), "the other part still is");
}

#[test]
fn counts_or_facets_of_other_rows_are_dropped() {
    let everything = small();
    let prices = crate::pricing::PriceTable::bundled().unwrap();
    let super::Opened { counts, instance_facets, .. } =
        open(super::encode_for_pages(&everything, &prices)).unwrap();
    let (rows, indexes) = (everything.instances.len(), everything.indexes.len());
    let (c, f) = super::of_these_rows(counts.clone(), instance_facets.clone(), rows, indexes);
    assert!(c.is_some() && f.is_some(), "the sync's own are kept");
    let (c, f) = super::of_these_rows(counts.clone(), instance_facets.clone(), rows + 1, indexes);
    assert!(c.is_none() && f.is_none());
    let (c, _) = super::of_these_rows(counts, None, rows, indexes + 1);
    assert!(c.is_none());
    let mut missing = instance_facets.unwrap();
    missing.remove(&crate::listing::FilterField::Via);
    assert!(super::of_these_rows(None, Some(missing), rows, indexes).1.is_none(), "a field missing");
}

/// `bytes` with `from` replaced by `to` (same length) and the checksum rewritten.
fn rewritten(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    bytes[at..at + to.len()].copy_from_slice(to);
    Kind::seal(&mut bytes);
    bytes
}

#[test]
fn counts_of_another_shape_or_format_and_facets_of_another_format_are_counted_again() {
    let everything = small();
    let prices = crate::pricing::PriceTable::bundled().unwrap();
    let bytes = super::encode_for_pages(&everything, &prices);
    // Counts an older sync wrote without `format`: not read, the facets still are.
    let opened = open(rewritten(bytes.clone(), br#""counts":{"format""#, br#""counts":{"f#rmat""#)).unwrap();
    assert!(opened.counts.is_none() && opened.instance_facets.is_some());
    // Facets counted another way.
    let opened = open(rewritten(bytes.clone(), br#""facets_format":1"#, br#""facets_format":7"#)).unwrap();
    assert!(opened.instance_facets.is_none() && opened.counts.is_some());
    // Counts of another counting are not shown.
    let mut counts = open(bytes).unwrap().counts.unwrap();
    assert!(counts.at(&prices).is_some());
    counts.format += 1;
    assert!(counts.at(&prices).is_none());
}

#[test]
fn a_snapshot_built_at_once_keeps_the_syncs_counts_and_facets() {
    let mut everything = small();
    everything.instances.reverse();
    let prices = crate::pricing::PriceTable::bundled().unwrap();
    let fleet = crate::model::Fleet::open_binary(super::encode_for_pages(&everything, &prices)).unwrap();
    let counted = crate::model::Fleet::new(everything);
    assert_eq!(fleet.counted(&prices), Some(&crate::summary::count(&counted, &prices)));
    let none = crate::listing::Filters::default();
    assert_eq!(*fleet.instance_facets_for(&none), *counted.instance_facets_for(&none));
}
