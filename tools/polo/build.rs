//! Embeds every function's Cargo.toml (`functions/*/Cargo.toml`, whose
//! `[package.metadata.polo]` says what the function is and needs) for `polo manifest`. The
//! list of functions is the directory's: nothing else names them.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../functions");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut names: Vec<String> = match std::fs::read_dir(&root) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            eprintln!("cannot list {}: {e}", root.display());
            std::process::exit(1);
        }
    };
    names.sort();
    let mut out = String::from(
        "/// Each function's directory under `functions/` and its Cargo.toml.\n\
         pub const DECLARED: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = root.join(name).join("Cargo.toml");
        let _ = writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string());
    }
    out.push_str("];\n");
    let file = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("functions.rs");
    if let Err(e) = std::fs::write(&file, out) {
        eprintln!("cannot write {}: {e}", file.display());
        std::process::exit(1);
    }
}
