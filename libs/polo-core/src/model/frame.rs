//! The frame of Polo's binary files (the snapshot's `snapshot.bin`, the cost store's
//! `costs.bin`): a 32-byte header saying what the file is, its layout version, and its body's
//! length and CRC-32, so a foreign, newer, truncated or corrupt file is refused by name
//! before a byte of its body is read; and the cursor their bodies are read with.
//!
//! ```text
//! magic (8 bytes) · version u32 · flags u32 (0) · body length u64 · CRC-32 of the body u32 · 0 u32
//! ```
//!
//! All integers are little-endian.

/// One kind of framed file.
pub(crate) struct Kind {
    /// What every such file starts with (upper-case ASCII).
    pub magic: &'static [u8; 8],
    /// The layout version this build writes and reads.
    pub version: u32,
    /// What errors call it.
    pub name: &'static str,
}

pub(crate) const HEADER_LEN: usize = 32;
/// Where the body's length and CRC-32 sit in the header.
const BODY_LEN_AT: usize = 16;
pub(crate) const CHECKSUM_AT: usize = 24;

impl Kind {
    /// Whether `bytes` claim to be of this kind (of any version).
    pub fn is(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(self.magic)
    }

    /// A file's header with its length and checksum left to [`Kind::seal`], room for `body`
    /// bytes after it.
    pub fn start(&self, body: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + body);
        out.extend_from_slice(self.magic);
        put_u32(&mut out, self.version);
        out.resize(HEADER_LEN, 0);
        out
    }

    /// Fills in the header of `out` (from [`Kind::start`]) once its body is written.
    pub fn seal(out: &mut [u8]) {
        let body_len = (out.len() - HEADER_LEN) as u64;
        out[BODY_LEN_AT..BODY_LEN_AT + 8].copy_from_slice(&body_len.to_le_bytes());
        let checksum = crc32fast::hash(&out[HEADER_LEN..]);
        out[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&checksum.to_le_bytes());
    }

    /// The body of a file whose header, length and checksum are right.
    pub fn body<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8], String> {
        if !self.is(bytes) {
            return Err(format!(
                "not a Polo {} (it does not start with {})",
                self.name,
                String::from_utf8_lossy(self.magic)
            ));
        }
        let Some(header) = bytes.get(..HEADER_LEN) else {
            return Err(format!(
                "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        };
        let mut h = Reader { buf: header, pos: self.magic.len() };
        let version = h.u32("the version")?;
        if version != self.version {
            let advice = if version > self.version {
                "written by a newer Polo; update this one"
            } else {
                "written by an older Polo"
            };
            return Err(format!(
                "layout version {version}, and this build reads version {} only ({advice})",
                self.version
            ));
        }
        let flags = h.u32("the flags")?;
        if flags != 0 {
            return Err(format!("unknown flags {flags:#x}"));
        }
        let body_len = h.len64("the body length")?;
        let checksum = h.u32("the checksum")?;
        let reserved = h.u32("the reserved word")?;
        if reserved != 0 {
            return Err(format!("unknown header word {reserved:#x}"));
        }
        let body = &bytes[HEADER_LEN..];
        if body.len() != body_len {
            return Err(format!(
                "truncated or padded: the header says {} bytes follow, and {} do",
                body_len,
                body.len()
            ));
        }
        if crc32fast::hash(body) != checksum {
            return Err("corrupt: the checksum of its body does not match".into());
        }
        Ok(body)
    }
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A cursor over a body; every read names what it was reading when the bytes run out.
pub(crate) struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| {
            format!(
                "{what}: needs {n} bytes at offset {}, and {} are left",
                self.pos,
                self.buf.len() - self.pos
            )
        })?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let bytes = self.take(N, what)?;
        let mut a = [0; N];
        a.copy_from_slice(bytes);
        Ok(a)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        self.array(what).map(u32::from_le_bytes)
    }

    /// A 64-bit length that must fit this machine and what is left.
    pub fn len64(&mut self, what: &str) -> Result<usize, String> {
        let n = u64::from_le_bytes(self.array(what)?);
        usize::try_from(n).map_err(|_| format!("{what}: length {n} does not fit"))
    }

    /// How many bytes are left.
    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails unless every byte was read.
    pub fn finish(&self, after: &str) -> Result<(), String> {
        match self.left() {
            0 => Ok(()),
            n => Err(format!("{n} bytes left over after {after}")),
        }
    }
}
