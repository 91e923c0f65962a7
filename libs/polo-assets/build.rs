//! Embeds every file under `static/` (except the Tailwind sources in `static/src/`) and
//! names each by a hash of its content, so pages can ask browsers to cache them forever.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../../static");
    println!("cargo:rerun-if-changed={}", root.display());
    // The stylesheet is committed (and checked against its Tailwind input by the test
    // command): a build without it would serve unstyled pages, so it is not a build.
    let css = root.join("dist/main.css");
    assert!(
        std::fs::metadata(&css).is_ok_and(|m| m.len() > 0),
        "{} is missing or empty: run `scripts/just tailwind` (it is committed; did the checkout lose it?)",
        css.display()
    );
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut names = String::from(
        "/// Logical path -> content-hashed path, for every asset.\npub static NAMES: &[(&str, &str)] = &[\n",
    );
    let mut bodies = String::from("/// Every asset with its bytes.\npub static FILES: &[Asset] = &[\n");
    for (logical, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_default();
        let hash = fnv1a(&bytes);
        let hashed = match logical.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{:012x}.{ext}", hash & 0xffff_ffff_ffff),
            None => format!("{logical}.{:012x}", hash & 0xffff_ffff_ffff),
        };
        let _ = writeln!(names, "    ({logical:?}, {hashed:?}),");
        let _ = writeln!(
            bodies,
            "    Asset {{ path: {logical:?}, hashed_path: {hashed:?}, etag: \"\\\"{hash:016x}\\\"\", bytes: include_bytes!({:?}) }},",
            path.display().to_string()
        );
    }
    names.push_str("];\n");
    bodies.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("assets.rs");
    let _ = std::fs::write(out, format!("{names}\n{bodies}"));
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(relative) = path.strip_prefix(root) else { continue };
        let logical = relative.to_string_lossy().replace('\\', "/");
        if logical == "src"
            || logical.starts_with('.')
            || Path::new(&logical).extension().is_some_and(|e| e.eq_ignore_ascii_case("md"))
        {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            out.push((logical, path));
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
