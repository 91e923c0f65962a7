//! The snapshot as route functions read it: a binary, versioned layout the sync writes beside
//! the JSON one (`snapshot.bin`). JSON stays the format for people and scripts
//! (`polo snapshot --json`); this one is made for a cold start, which decodes it without
//! parsing text: every string of the snapshot once, in one table, and instances and indexes as
//! columns of fixed-width fields that point into it.
//!
//! ```text
//! header (32 bytes, [`super::frame`]): "POLOSNAP" · version u32 · flags u32 (0) · body length u64 · CRC-32 of the body u32 · 0 u32
//! body:  rest     u64 length · JSON of what is small (generated_at, accounts, cost facts, …)
//!        strings  u32 count · u32 end offsets[count] · u64 length · UTF-8 bytes
//!        instances u32 rows · one column per field (below)
//!        indexes   u32 rows · one column per field
//! ```
//!
//! All integers are little-endian. A string field is a `u32` into the table, `u32::MAX` for
//! none; a time is `i64` seconds, `u32` nanoseconds and `i32` offset seconds (an optional
//! one is preceded by a presence column of bytes). A snapshot of another version, a truncated
//! file or one whose checksum fails is refused with an error naming the problem, never misread.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use super::frame::{HEADER_LEN, Kind, Reader, put_u32, put_u64};
use super::{
    AccountSync, Change, CostFacts, Everything, Finding, Index, IndexStatus, Instance, InstanceState,
    Lifecycle, Tags, Text,
};
use crate::listing::Facets;
use crate::pricing::PriceTable;
use crate::summary::PricedCounts;

/// What every binary snapshot starts with.
pub const MAGIC: &[u8; 8] = b"POLOSNAP";

/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;

/// The snapshot's frame ([`super::frame`]).
const SNAPSHOT: Kind = Kind { magic: MAGIC, version: VERSION, name: "binary snapshot" };
const NONE: u32 = u32::MAX;

/// Whether `bytes` claim to be a binary snapshot (of any version).
pub fn is_binary(bytes: &[u8]) -> bool {
    SNAPSHOT.is(bytes)
}

/// The small parts, kept as JSON inside the binary layout: borrowed from the snapshot to
/// write, owned when read.
#[derive(Serialize, Deserialize)]
struct Rest<'a> {
    #[serde(with = "time::serde::rfc3339")]
    generated_at: OffsetDateTime,
    price_table_version: Cow<'a, str>,
    accounts: Cow<'a, [AccountSync]>,
    cost_facts: Cow<'a, CostFacts>,
    history: Cow<'a, [Change]>,
    findings: Cow<'a, [Finding]>,
    /// `/`'s counts as the sync priced them (absent from files written before them, and
    /// from those written without a price table). Read leniently, like the facets: a shape
    /// this build does not know (a newer sync's) is counted again, never a refused file.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    counts: Option<Cow<'a, PricedCounts>>,
    /// Every instance facet, as the sync counted them (absent likewise).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    instance_facets: Option<Cow<'a, Facets>>,
    /// How the facets were counted ([`crate::listing::FACETS_FORMAT`]; 0 when absent).
    #[serde(default, skip_serializing_if = "is_zero")]
    facets_format: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A part that only saves work: `None`, with a warning, when it does not read as `T`.
fn lenient<'de, 'a, D, T>(d: D) -> Result<Option<Cow<'a, T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Clone + serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    if value.is_null() {
        return Ok(None);
    }
    match serde_json::from_value(value) {
        Ok(part) => Ok(Some(Cow::Owned(part))),
        Err(e) => {
            tracing::warn!(error = %e, "a precomputed part of the snapshot is not in a shape this build reads; counting it again");
            Ok(None)
        }
    }
}

/// The sync's counts and facets, kept only if they are of these `rows` and `indexes`: counts
/// of another number of rows, or facets that miss a field or whose values do not add up to
/// every row, are dropped (and counted again).
fn of_these_rows(
    counts: Option<PricedCounts>,
    facets: Option<Facets>,
    rows: usize,
    indexes: usize,
) -> (Option<PricedCounts>, Option<Facets>) {
    let dropped = |what: &str| {
        tracing::warn!(
            what,
            rows,
            indexes,
            "the sync's precomputed part is not of these rows; counting it again"
        );
    };
    let counts = counts.filter(|c| {
        let fits = c.counts.instances == rows && c.counts.indexes == indexes;
        if !fits {
            dropped("counts");
        }
        fits
    });
    let facets = facets.filter(|f| {
        let fits = crate::listing::FilterField::ALL.iter().all(|field| {
            f.get(field).is_some_and(|values| values.iter().map(|(_, n)| n).sum::<usize>() == rows)
        });
        if !fits {
            dropped("facets");
        }
        fits
    });
    (counts, facets)
}

/// The snapshot in the binary layout.
///
/// # Panics
/// Never on a snapshot that fits the layout: more than 4 billion strings or rows would.
pub fn encode(everything: &Everything) -> Vec<u8> {
    encode_with(everything, None)
}

/// The snapshot in the binary layout as the sync writes it, with what route functions' first
/// pages would otherwise count over every instance: `/`'s counts at `prices` (taken by a
/// function that prices alike) and the instances' facets. Those pages then answer a cold
/// start without building the instances, or (the inventory) without counting them.
pub fn encode_for_pages(everything: &Everything, prices: &PriceTable) -> Vec<u8> {
    let counts = PricedCounts::of(&everything.accounts, &everything.instances, &everything.indexes, prices);
    let facets = crate::listing::all_facets(&everything.instances);
    encode_with(everything, Some((&counts, &facets)))
}

fn encode_with(everything: &Everything, counted: Option<(&PricedCounts, &Facets)>) -> Vec<u8> {
    let rest = Rest {
        counts: counted.map(|(c, _)| Cow::Borrowed(c)),
        instance_facets: counted.map(|(_, f)| Cow::Borrowed(f)),
        facets_format: if counted.is_some() { crate::listing::FACETS_FORMAT } else { 0 },
        generated_at: everything.generated_at,
        price_table_version: Cow::Borrowed(&everything.price_table_version),
        accounts: Cow::Borrowed(&everything.accounts),
        cost_facts: Cow::Borrowed(&everything.cost_facts),
        history: Cow::Borrowed(&everything.history),
        findings: Cow::Borrowed(&everything.findings),
    };
    // Serializing plain data to memory cannot fail.
    let rest = serde_json::to_vec(&rest).unwrap_or_default();
    let mut strings = Strings::default();
    let mut instances = Vec::new();
    encode_instances(&everything.instances, &mut strings, &mut instances);
    let mut indexes = Vec::new();
    encode_indexes(&everything.indexes, &mut strings, &mut indexes);

    // The header's length and checksum are filled in once the body behind it is written.
    let mut out = SNAPSHOT.start(
        rest.len() + 4 * strings.ends.len() + strings.bytes.len() + instances.len() + indexes.len() + 24,
    );
    put_u64(&mut out, rest.len() as u64);
    out.extend_from_slice(&rest);
    put_u32(&mut out, len32(strings.ends.len()));
    for end in &strings.ends {
        put_u32(&mut out, *end);
    }
    put_u64(&mut out, strings.bytes.len() as u64);
    out.extend_from_slice(&strings.bytes);
    out.extend_from_slice(&instances);
    out.extend_from_slice(&indexes);
    Kind::seal(&mut out);
    out
}

/// The snapshot in `bytes`, or what is wrong with them (one line).
pub fn decode(bytes: &[u8]) -> Result<Everything, String> {
    let body = SNAPSHOT.body(bytes)?;
    let mut r = Reader { buf: body, pos: 0 };
    let rest = read_rest(&mut r)?;
    let strings = StringTable::read(&mut r)?;
    let instances = InstanceColumns::read(&mut r)?.build(&strings, 0..usize::MAX)?;
    let indexes = decode_indexes(&mut r, &strings)?;
    finish(&r)?;
    Ok(rest.into_everything(instances, indexes))
}

/// A binary snapshot opened for a cold start: everything but its instances read, and the
/// instances checked by every rule their build applies (string ids, enum bytes, times, tag
/// ranges, the copy budget) without building one. [`Pending::build`] builds them when a page
/// first asks, from the bytes kept here; only what reads the accounts, indexes, costs,
/// findings or history never pays for them.
pub struct Pending {
    bytes: Vec<u8>,
    /// Where the string table, and the instance columns, start in the body.
    strings_at: usize,
    instances_at: usize,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("bytes", &self.bytes.len()).finish_non_exhaustive()
    }
}

/// A binary snapshot opened ([`open`]).
#[derive(Debug)]
pub struct Opened {
    /// The snapshot, without its instances when they are `pending`.
    pub everything: Everything,
    /// The instances, left to build; `None` when they are in `everything` already.
    pub pending: Option<Pending>,
    /// `/`'s counts as the sync priced them, when it wrote them.
    pub counts: Option<PricedCounts>,
    /// The instances' facets as the sync counted them, when it wrote them.
    pub instance_facets: Option<Facets>,
}

/// The snapshot in `bytes` with its instances left to build, or what is wrong with them:
/// refused exactly when [`decode`] refuses them (a message may name another field first).
/// Instances not in id order (the sync writes them so) are built
/// at once, to be sorted.
pub fn open(bytes: Vec<u8>) -> Result<Opened, String> {
    let (everything, counts, instance_facets, strings_at, instances_at) = {
        let body = SNAPSHOT.body(&bytes)?;
        let mut r = Reader { buf: body, pos: 0 };
        let mut rest = read_rest(&mut r)?;
        let counts = rest.counts.take().map(Cow::into_owned);
        // Facets counted otherwise than this build counts are counted again.
        let instance_facets = rest
            .instance_facets
            .take()
            .filter(|_| {
                let same = rest.facets_format == crate::listing::FACETS_FORMAT;
                if !same {
                    tracing::warn!(
                        format = rest.facets_format,
                        "the sync's facets were counted otherwise; counting them again"
                    );
                }
                same
            })
            .map(Cow::into_owned);
        let strings_at = r.pos;
        let strings = StringTable::read(&mut r)?;
        let instances_at = r.pos;
        let columns = InstanceColumns::read(&mut r)?;
        let sorted = columns.check(&strings)?;
        if !sorted {
            let instances = columns
                .build(&StringTable::read(&mut Reader { buf: body, pos: strings_at })?, 0..usize::MAX)?;
            let indexes = decode_indexes(&mut r, &strings)?;
            finish(&r)?;
            let (counts, instance_facets) =
                of_these_rows(counts, instance_facets, instances.len(), indexes.len());
            let everything = rest.into_everything(instances, indexes);
            return Ok(Opened { everything, pending: None, counts, instance_facets });
        }
        let indexes = decode_indexes(&mut r, &strings)?;
        finish(&r)?;
        let (counts, instance_facets) = of_these_rows(counts, instance_facets, columns.rows, indexes.len());
        (rest.into_everything(Vec::new(), indexes), counts, instance_facets, strings_at, instances_at)
    };
    Ok(Opened {
        everything,
        pending: Some(Pending { bytes, strings_at, instances_at }),
        counts,
        instance_facets,
    })
}

impl Pending {
    /// The instances, in id order. [`open`] applied every check this build does, so this
    /// fails only if the two disagree (a proptest holds them to refusing the same files).
    pub fn build(&self) -> Result<Vec<Instance>, String> {
        // Checked by `open` (length, checksum) and owned since: read as they are.
        let body = self.bytes.get(HEADER_LEN..).unwrap_or_default();
        let strings = StringTable::read(&mut Reader { buf: body, pos: self.strings_at })?;
        InstanceColumns::read(&mut Reader { buf: body, pos: self.instances_at })?
            .build(&strings, 0..usize::MAX)
    }

    /// How many instances there are.
    pub fn len(&self) -> usize {
        let body = self.bytes.get(HEADER_LEN..).unwrap_or_default();
        Reader { buf: body, pos: self.instances_at }.u32("the instance count").map_or(0, |n| n as usize)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The instances at positions `range` (cut to those there are), in id order, built alone:
    /// one page of a cold start's list reads the rows it shows and no other.
    pub fn build_range(&self, range: std::ops::Range<usize>) -> Result<Vec<Instance>, String> {
        let body = self.bytes.get(HEADER_LEN..).unwrap_or_default();
        // The few strings these rows name, cut as they ask: not the whole table.
        let strings = StringTable::read_lazily(&mut Reader { buf: body, pos: self.strings_at })?;
        InstanceColumns::read(&mut Reader { buf: body, pos: self.instances_at })?.build(&strings, range)
    }
}

fn read_rest(r: &mut Reader<'_>) -> Result<Rest<'static>, String> {
    let rest_len = r.len64("the small parts")?;
    crate::json::decode(r.take(rest_len, "the small parts")?).map_err(|e| format!("the small parts: {e}"))
}

fn finish(r: &Reader<'_>) -> Result<(), String> {
    r.finish("the indexes")
}

impl Rest<'_> {
    fn into_everything(self, instances: Vec<Instance>, indexes: Vec<Index>) -> Everything {
        Everything {
            generated_at: self.generated_at,
            price_table_version: self.price_table_version.into_owned(),
            accounts: self.accounts.into_owned(),
            instances,
            indexes,
            cost_facts: self.cost_facts.into_owned(),
            history: self.history.into_owned(),
            findings: self.findings.into_owned(),
        }
    }
}

#[derive(Default)]
struct Strings<'a> {
    ids: foldhash::HashMap<&'a str, u32>,
    ends: Vec<u32>,
    bytes: Vec<u8>,
}

impl<'a> Strings<'a> {
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = len32(self.ends.len());
        self.bytes.extend_from_slice(s.as_bytes());
        self.ends.push(len32(self.bytes.len()));
        self.ids.insert(s, id);
        id
    }

    fn opt(&mut self, s: Option<&'a str>) -> u32 {
        s.map_or(NONE, |s| self.id(s))
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends one column: `f` of every row.
fn column<'r, T, const N: usize>(out: &mut Vec<u8>, rows: &'r [T], mut f: impl FnMut(&'r T) -> [u8; N]) {
    out.reserve(rows.len() * N);
    for row in rows {
        out.extend_from_slice(&f(row));
    }
}

/// Appends a time column (seconds, nanoseconds, offset).
fn time_column<T>(out: &mut Vec<u8>, rows: &[T], f: impl Fn(&T) -> Option<OffsetDateTime>) {
    column(out, rows, |r| [u8::from(f(r).is_some())]);
    column(out, rows, |r| f(r).map_or(0, OffsetDateTime::unix_timestamp).to_le_bytes());
    column(out, rows, |r| f(r).map_or(0, OffsetDateTime::nanosecond).to_le_bytes());
    column(out, rows, |r| f(r).map_or(0, |t| t.offset().whole_seconds()).to_le_bytes());
}

/// How a string field of an instance, or of an index, is read.
type InstanceField = fn(&Instance) -> Option<&str>;
type IndexField = fn(&Index) -> &str;

/// An instance's string fields in layout order: each one's name (for errors) and value.
const INSTANCE_STRINGS: [(&str, InstanceField); 11] = [
    ("id", |i| Some(&i.id)),
    ("account", |i| Some(&i.account)),
    ("account_id", |i| Some(&i.account_id)),
    ("region", |i| Some(&i.region)),
    ("az", |i| Some(&i.az)),
    ("name", |i| i.name.as_deref()),
    ("type", |i| Some(&i.instance_type)),
    ("private_ip", |i| i.private_ip.as_deref()),
    ("owner", |i| i.owner.as_deref()),
    ("index", |i| i.index.as_deref()),
    ("customer", |i| i.customer.as_deref()),
];

/// An index's string fields in layout order.
const INDEX_STRINGS: [(&str, IndexField); 8] = [
    ("index_id", |x| &x.index_id),
    ("name", |x| &x.name),
    ("account", |x| &x.account),
    ("region", |x| &x.region),
    ("customer", |x| &x.customer),
    ("inference_type", |x| &x.inference_type),
    ("storage_class", |x| &x.storage_class),
    ("marqo_version", |x| &x.marqo_version),
];

fn encode_instances<'a>(rows: &'a [Instance], s: &mut Strings<'a>, out: &mut Vec<u8>) {
    put_u32(out, len32(rows.len()));
    for (_, f) in INSTANCE_STRINGS {
        column(out, rows, |i| s.opt(f(i)).to_le_bytes());
    }
    column(out, rows, |i| [state_byte(i.state)]);
    column(out, rows, |i| [lifecycle_byte(i.lifecycle)]);
    time_column(out, rows, |i| Some(i.launch_time));
    time_column(out, rows, |i| i.state_since);
    // Tags: where each row's pairs end, then every key, then every value.
    let mut end = 0u32;
    column(out, rows, |i| {
        end = end.saturating_add(len32(i.tags.len()));
        end.to_le_bytes()
    });
    let pairs: Vec<(&Text, &Text)> = rows.iter().flat_map(|i| &i.tags).collect();
    column(out, &pairs, |&(k, _)| s.id(k).to_le_bytes());
    column(out, &pairs, |&(_, v)| s.id(v).to_le_bytes());
}

fn encode_indexes<'a>(rows: &'a [Index], s: &mut Strings<'a>, out: &mut Vec<u8>) {
    put_u32(out, len32(rows.len()));
    for (_, f) in INDEX_STRINGS {
        column(out, rows, |x| s.id(f(x)).to_le_bytes());
    }
    column(out, rows, |x| [status_byte(x.status)]);
    column(out, rows, |x| x.inference_count.to_le_bytes());
    column(out, rows, |x| x.shards.to_le_bytes());
    column(out, rows, |x| x.replicas.to_le_bytes());
    time_column(out, rows, |x| x.status_since);
    time_column(out, rows, |x| Some(x.created_at));
}

fn state_byte(state: InstanceState) -> u8 {
    InstanceState::ALL.iter().position(|&s| s == state).and_then(|p| u8::try_from(p).ok()).unwrap_or(u8::MAX)
}

fn lifecycle_byte(lifecycle: Lifecycle) -> u8 {
    match lifecycle {
        Lifecycle::OnDemand => 0,
        Lifecycle::Spot => 1,
    }
}

fn status_byte(status: IndexStatus) -> u8 {
    IndexStatus::ALL.iter().position(|&s| s == status).and_then(|p| u8::try_from(p).ok()).unwrap_or(u8::MAX)
}

/// The snapshot's own reads: columns of fixed-width fields.
impl<'a> Reader<'a> {
    /// A column of `rows` fields of `N` bytes.
    fn column<const N: usize>(&mut self, rows: usize, what: &str) -> Result<Column<'a, N>, String> {
        let len = rows.checked_mul(N).ok_or_else(|| format!("{what}: {rows} rows do not fit"))?;
        Ok(Column { bytes: self.take(len, what)? })
    }

    fn times(&mut self, rows: usize, what: &str) -> Result<Times<'a>, String> {
        Ok(Times {
            present: self.column(rows, what)?,
            seconds: self.column(rows, what)?,
            nanos: self.column(rows, what)?,
            offsets: self.column(rows, what)?,
        })
    }
}

/// Fixed-width fields, one per row.
#[derive(Clone, Copy)]
struct Column<'a, const N: usize> {
    bytes: &'a [u8],
}

impl<const N: usize> Column<'_, N> {
    fn at(&self, row: usize) -> [u8; N] {
        let mut a = [0; N];
        a.copy_from_slice(&self.bytes[row * N..row * N + N]);
        a
    }
}

impl Column<'_, 4> {
    fn u32(&self, row: usize) -> u32 {
        u32::from_le_bytes(self.at(row))
    }
}

struct Times<'a> {
    present: Column<'a, 1>,
    seconds: Column<'a, 8>,
    nanos: Column<'a, 4>,
    offsets: Column<'a, 4>,
}

impl Times<'_> {
    fn at(&self, row: usize, what: &str) -> Result<Option<OffsetDateTime>, String> {
        match self.present.at(row)[0] {
            0 => Ok(None),
            1 => {
                let bad = |e: time::error::ComponentRange| format!("row {row}: {what}: {e}");
                let seconds = i64::from_le_bytes(self.seconds.at(row));
                let offset =
                    UtcOffset::from_whole_seconds(i32::from_le_bytes(self.offsets.at(row))).map_err(bad)?;
                let t = OffsetDateTime::from_unix_timestamp(seconds)
                    .and_then(|t| t.replace_nanosecond(u32::from_le_bytes(self.nanos.at(row))))
                    .map_err(bad)?;
                t.checked_to_offset(offset)
                    .map(Some)
                    .ok_or_else(|| format!("row {row}: {what}: out of range at its offset"))
            }
            b => Err(format!("row {row}: {what}: presence byte {b}")),
        }
    }

    fn required(&self, row: usize, what: &str) -> Result<OffsetDateTime, String> {
        self.at(row, what)?.ok_or_else(|| format!("row {row}: {what} is missing"))
    }
}

/// The string table: its text checked to be UTF-8 once, and cut into strings once.
struct StringTable<'a> {
    /// Every string, cut once; empty in a table read lazily.
    strings: Vec<&'a str>,
    /// A table read lazily ([`StringTable::read_lazily`]): each string cut when asked for.
    lazy: Option<Lazy<'a>>,
    /// Each string as a [`Text`], made the first time a row asks for it: every later row
    /// shares that one (empty in a table read lazily, which copies each).
    shared: Vec<std::cell::OnceCell<Text>>,
    /// How many more bytes of strings may be copied out: a small file whose rows all point at
    /// one long string must not ask for gigabytes.
    budget: std::cell::Cell<usize>,
}

/// The string table's offsets and bytes, cut string by string.
struct Lazy<'a> {
    count: usize,
    ends: Column<'a, 4>,
    bytes: &'a [u8],
}

/// Strings copied out may add up to this many times the body's size (a real snapshot: under 2).
const EXPANSION: usize = 16;

impl<'a> StringTable<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, String> {
        let count = r.u32("the string count")? as usize;
        let ends = r.column::<4>(count, "the string table's offsets")?;
        let len = r.len64("the string table's length")?;
        let text = std::str::from_utf8(r.take(len, "the string table")?)
            .map_err(|e| format!("the string table is not UTF-8: {e}"))?;
        let mut strings = Vec::with_capacity(count);
        let mut start = 0;
        for i in 0..count {
            let end = ends.u32(i) as usize;
            strings.push(
                text.get(start..end).ok_or_else(|| format!("string {i} spans {start}..{end}, not text"))?,
            );
            start = end;
        }
        let shared = std::iter::repeat_with(std::cell::OnceCell::new).take(count).collect();
        Ok(StringTable {
            strings,
            lazy: None,
            shared,
            budget: std::cell::Cell::new(r.buf.len().saturating_mul(EXPANSION)),
        })
    }

    /// The table of a file [`open`] read in full, for a few rows: nothing is cut or checked
    /// until a row asks for a string (each is checked then, as [`StringTable::read`] checks
    /// them all), and nothing is shared.
    fn read_lazily(r: &mut Reader<'a>) -> Result<Self, String> {
        let count = r.u32("the string count")? as usize;
        let ends = r.column::<4>(count, "the string table's offsets")?;
        let len = r.len64("the string table's length")?;
        let bytes = r.take(len, "the string table")?;
        Ok(StringTable {
            strings: Vec::new(),
            lazy: Some(Lazy { count, ends, bytes }),
            shared: Vec::new(),
            budget: std::cell::Cell::new(r.buf.len().saturating_mul(EXPANSION)),
        })
    }

    fn get(&self, id: u32, what: &str) -> Result<&'a str, String> {
        let i = id as usize;
        let Some(lazy) = &self.lazy else {
            return self
                .strings
                .get(i)
                .copied()
                .ok_or_else(|| format!("{what}: string {id} of {}", self.strings.len()));
        };
        if i >= lazy.count {
            return Err(format!("{what}: string {id} of {}", lazy.count));
        }
        let start = i.checked_sub(1).map_or(0, |before| lazy.ends.u32(before) as usize);
        let end = lazy.ends.u32(i) as usize;
        lazy.bytes
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| format!("string {i} spans {start}..{end}, not text"))
    }

    /// Takes `len` bytes of the copy budget.
    fn spend(&self, len: usize, what: &str) -> Result<(), String> {
        let left = self.budget.get().checked_sub(len).ok_or_else(|| {
            format!("{what}: its strings would add up to more than {EXPANSION} times the file's size")
        })?;
        self.budget.set(left);
        Ok(())
    }

    /// String `id` as a copy of its own.
    fn owned(&self, id: u32, what: &str) -> Result<String, String> {
        let s = self.get(id, what)?;
        self.spend(s.len(), what)?;
        Ok(s.to_owned())
    }

    fn opt(&self, id: u32, what: &str) -> Result<Option<String>, String> {
        if id == NONE { Ok(None) } else { self.owned(id, what).map(Some) }
    }

    /// String `id` shared: copied once, however many rows ask (a table read lazily copies it).
    fn text(&self, id: u32, what: &str) -> Result<Text, String> {
        let s = self.get(id, what)?;
        let Some(cell) = self.shared.get(id as usize) else {
            self.spend(s.len(), what)?;
            return Ok(Text::from(s));
        };
        if let Some(t) = cell.get() {
            return Ok(t.clone());
        }
        self.spend(s.len(), what)?;
        Ok(cell.get_or_init(|| Text::from(s)).clone())
    }

    fn opt_text(&self, id: u32, what: &str) -> Result<Option<Text>, String> {
        if id == NONE { Ok(None) } else { self.text(id, what).map(Some) }
    }
}

/// Columns of string ids, one per named field.
struct StrColumns<'a, const K: usize> {
    names: [&'static str; K],
    cols: Vec<Column<'a, 4>>,
}

impl<'a, const K: usize> StrColumns<'a, K> {
    fn read(r: &mut Reader<'a>, rows: usize, names: [&'static str; K]) -> Result<Self, String> {
        let cols = names.iter().map(|name| r.column(rows, name)).collect::<Result<_, _>>()?;
        Ok(StrColumns { names, cols })
    }

    /// Field `c` of `row`, which must be there.
    fn owned(&self, s: &StringTable<'_>, c: usize, row: usize) -> Result<String, String> {
        s.owned(self.cols[c].u32(row), self.names[c])
    }

    /// Field `c` of `row`, or none.
    fn opt(&self, s: &StringTable<'_>, c: usize, row: usize) -> Result<Option<String>, String> {
        s.opt(self.cols[c].u32(row), self.names[c])
    }

    /// Field `c` of `row`, shared.
    fn text(&self, s: &StringTable<'_>, c: usize, row: usize) -> Result<Text, String> {
        s.text(self.cols[c].u32(row), self.names[c])
    }

    /// Field `c` of `row` shared, or none.
    fn opt_text(&self, s: &StringTable<'_>, c: usize, row: usize) -> Result<Option<Text>, String> {
        s.opt_text(self.cols[c].u32(row), self.names[c])
    }
}

/// The instance section's columns, read (bounds-checked) but not yet interpreted.
struct InstanceColumns<'a> {
    rows: usize,
    strs: StrColumns<'a, 11>,
    states: Column<'a, 1>,
    lifecycles: Column<'a, 1>,
    launch: Times<'a>,
    since: Times<'a>,
    tag_ends: Column<'a, 4>,
    pairs: usize,
    keys: Column<'a, 4>,
    values: Column<'a, 4>,
}

/// Where the string fields of an instance sit among its string columns.
const ID: usize = 0;
const PRIVATE_IP: usize = 7;
/// The shared fields that every instance has, and those it may lack.
const REQUIRED_TEXT: [usize; 5] = [1, 2, 3, 4, 6];
const OPTIONAL_TEXT: [usize; 4] = [5, 8, 9, 10];

impl<'a> InstanceColumns<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, String> {
        let rows = r.u32("the instance count")? as usize;
        let strs = StrColumns::read(r, rows, INSTANCE_STRINGS.map(|(name, _)| name))?;
        let states = r.column::<1>(rows, "state")?;
        let lifecycles = r.column::<1>(rows, "lifecycle")?;
        let launch = r.times(rows, "launch_time")?;
        let since = r.times(rows, "state_since")?;
        let tag_ends = r.column::<4>(rows, "tags")?;
        let pairs = if rows == 0 { 0 } else { tag_ends.u32(rows - 1) as usize };
        let keys = r.column::<4>(pairs, "tag keys")?;
        let values = r.column::<4>(pairs, "tag values")?;
        Ok(InstanceColumns { rows, strs, states, lifecycles, launch, since, tag_ends, pairs, keys, values })
    }

    /// Row `row`'s tags as a range of pairs, after the previous row's (`start`).
    fn tag_range(&self, row: usize, start: usize) -> Result<std::ops::Range<usize>, String> {
        let end = self.tag_ends.u32(row) as usize;
        if end < start || end > self.pairs {
            return Err(format!("instance {row}: tags end at {end}, outside {start}..={}", self.pairs));
        }
        Ok(start..end)
    }

    fn state(&self, row: usize) -> Result<InstanceState, String> {
        let b = self.states.at(row)[0];
        InstanceState::ALL
            .get(usize::from(b))
            .copied()
            .ok_or_else(|| format!("instance {row}: state byte {b}"))
    }

    fn lifecycle(&self, row: usize) -> Result<Lifecycle, String> {
        match self.lifecycles.at(row)[0] {
            0 => Ok(Lifecycle::OnDemand),
            1 => Ok(Lifecycle::Spot),
            b => Err(format!("instance {row}: lifecycle byte {b}")),
        }
    }

    /// Applies every check [`InstanceColumns::build`] applies, building nothing, and charges
    /// the copy budget what the build will copy. Whether the ids are in order.
    fn check(&self, s: &StringTable<'_>) -> Result<bool, String> {
        let mut first_use = vec![false; s.strings.len()];
        let mut copied = 0usize;
        let mut share = |id: u32, what: &str| -> Result<(), String> {
            let text = s.get(id, what)?;
            if !std::mem::replace(&mut first_use[id as usize], true) {
                copied = copied.saturating_add(text.len());
            }
            Ok(())
        };
        let (mut owned, mut sorted, mut previous) = (0usize, true, "");
        let mut tag_start = 0;
        for row in 0..self.rows {
            let id = s.get(self.strs.cols[ID].u32(row), self.strs.names[ID])?;
            sorted &= previous <= id;
            previous = id;
            owned = owned.saturating_add(id.len());
            for c in REQUIRED_TEXT {
                share(self.strs.cols[c].u32(row), self.strs.names[c])?;
            }
            for c in OPTIONAL_TEXT {
                let id = self.strs.cols[c].u32(row);
                if id != NONE {
                    share(id, self.strs.names[c])?;
                }
            }
            let ip = self.strs.cols[PRIVATE_IP].u32(row);
            if ip != NONE {
                owned = owned.saturating_add(s.get(ip, self.strs.names[PRIVATE_IP])?.len());
            }
            self.state(row)?;
            self.lifecycle(row)?;
            self.launch.required(row, "launch_time")?;
            self.since.at(row, "state_since")?;
            let tags = self.tag_range(row, tag_start)?;
            for p in tags.clone() {
                share(self.keys.u32(p), "tag key")?;
                share(self.values.u32(p), "tag value")?;
            }
            tag_start = tags.end;
        }
        s.spend(owned.saturating_add(copied), "the instances")?;
        Ok(sorted)
    }

    /// The rows at `range`, cut to those there are.
    fn build(&self, s: &StringTable<'_>, range: std::ops::Range<usize>) -> Result<Vec<Instance>, String> {
        let strs = &self.strs;
        let range = range.start.min(self.rows)..range.end.min(self.rows);
        let mut rows = Vec::with_capacity(range.len());
        // Each row's pairs start where the previous row's end.
        let mut tag_start = match range.start.checked_sub(1) {
            Some(before) => self.tag_range(before, 0)?.end,
            None => 0,
        };
        for row in range {
            let text_at = |c: usize| strs.text(s, c, row);
            let opt_text_at = |c: usize| strs.opt_text(s, c, row);
            let range = self.tag_range(row, tag_start)?;
            tag_start = range.end;
            let mut pairs = Vec::with_capacity(range.len());
            for p in range {
                pairs.push((s.text(self.keys.u32(p), "tag key")?, s.text(self.values.u32(p), "tag value")?));
            }
            // Written in key order, so this takes the pairs as they are, with no sort.
            let tags = Tags::from_iter(pairs);
            rows.push(Instance {
                id: strs.owned(s, ID, row)?,
                account: text_at(1)?,
                account_id: text_at(2)?,
                region: text_at(3)?,
                az: text_at(4)?,
                name: opt_text_at(5)?,
                instance_type: text_at(6)?,
                state: self.state(row)?,
                lifecycle: self.lifecycle(row)?,
                launch_time: self.launch.required(row, "launch_time")?,
                state_since: self.since.at(row, "state_since")?,
                private_ip: strs.opt(s, PRIVATE_IP, row)?,
                owner: opt_text_at(8)?,
                index: opt_text_at(9)?,
                customer: opt_text_at(10)?,
                tags,
            });
        }
        Ok(rows)
    }
}

fn decode_indexes(r: &mut Reader<'_>, s: &StringTable<'_>) -> Result<Vec<Index>, String> {
    let n = r.u32("the index count")? as usize;
    let strs = StrColumns::read(r, n, INDEX_STRINGS.map(|(name, _)| name))?;
    let statuses = r.column::<1>(n, "status")?;
    let inference_counts = r.column::<4>(n, "inference_count")?;
    let shards = r.column::<4>(n, "shards")?;
    let replicas = r.column::<4>(n, "replicas")?;
    let since = r.times(n, "status_since")?;
    let created = r.times(n, "created_at")?;
    let mut rows = Vec::with_capacity(n);
    for row in 0..n {
        let str_at = |c: usize| strs.owned(s, c, row);
        rows.push(Index {
            index_id: str_at(0)?,
            name: str_at(1)?,
            account: str_at(2)?,
            region: str_at(3)?,
            customer: str_at(4)?,
            status: *IndexStatus::ALL
                .get(usize::from(statuses.at(row)[0]))
                .ok_or_else(|| format!("index {row}: status byte {}", statuses.at(row)[0]))?,
            status_since: since.at(row, "status_since")?,
            inference_type: str_at(5)?,
            inference_count: inference_counts.u32(row),
            storage_class: str_at(6)?,
            shards: shards.u32(row),
            replicas: replicas.u32(row),
            marqo_version: str_at(7)?,
            created_at: created.required(row, "created_at")?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
