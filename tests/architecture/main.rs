//! The workspace's shape, read from `cargo metadata`: what each kind of crate may not depend
//! on (ARCHITECTURE.md states the same as absences). One test per rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::Value;

/// `cargo metadata` of the workspace's own packages.
fn metadata() -> Value {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--locked", "--no-deps", "--offline", "--format-version", "1"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Each workspace package with its normal and build dependencies (dev-dependencies are the
/// tests' business), by name.
fn packages() -> BTreeMap<String, (String, Vec<String>)> {
    let meta = metadata();
    let root = meta["workspace_root"].as_str().unwrap().to_owned();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let dir = p["manifest_path"].as_str().unwrap().trim_start_matches(&root).trim_start_matches('/');
            let dir = dir.trim_end_matches("/Cargo.toml").to_owned();
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), (dir, deps))
        })
        .collect()
}

/// The functions (one per directory under `functions/`) and which of them serve routes.
fn functions() -> Vec<(String, bool)> {
    let table = polo::all_routes();
    let routed: Vec<&str> = table.iter().map(|r| r.function).collect();
    packages()
        .into_iter()
        .filter(|(_, (dir, _))| dir.starts_with("functions/"))
        .map(|(name, (dir, _))| {
            let function = dir.trim_start_matches("functions/").to_owned();
            let serves_routes = routed.contains(&function.as_str());
            (name, serves_routes)
        })
        .collect()
}

const HTTP: &[&str] = &["axum", "hyper", "lambda_http", "tower-http", "askama", "jsonwebtoken", "reqwest"];
const LAMBDA: &[&str] = &["lambda_runtime", "lambda_http", "aws_lambda_events"];

fn offending<'a>(deps: &'a [String], banned: &[&str]) -> Vec<&'a str> {
    deps.iter().map(String::as_str).filter(|d| banned.contains(d)).collect()
}

/// An AWS SDK crate (or the SDK's runtime underneath).
fn is_aws_sdk(dep: &str) -> bool {
    dep.starts_with("aws-") || dep.starts_with("aws_") || dep == "serde_dynamo"
}

/// Where AWS SDK types may appear: the data plane's adapters, the sync's sources (EC2, the
/// index registries, Cost Explorer), the CLI's price-list refresh (Pricing API), the tests
/// that drive the emulator; and `workspace-hack`, which holds no code, only the features
/// every build agrees on. Lambda's own event types (`aws_lambda_events`) are not the SDK.
const MAY_USE_AWS_SDK: &[&str] = &["polo-aws", "polo-sync-engine", "polo", "polo-tests", "workspace-hack"];

#[test]
fn the_domain_crate_depends_on_no_aws_http_or_lambda_crate() {
    let all = packages();
    let (_, deps) = &all["polo-core"];
    let mut bad = offending(deps, &[HTTP, LAMBDA, &["workspace-hack"]].concat());
    bad.extend(deps.iter().map(String::as_str).filter(|d| is_aws_sdk(d)));
    assert!(bad.is_empty(), "polo-core depends on {bad:?}");
}

#[test]
fn aws_sdk_types_appear_only_in_the_aws_crates() {
    for (name, (_, deps)) in packages() {
        if MAY_USE_AWS_SDK.contains(&name.as_str()) {
            continue;
        }
        let sdk: Vec<&String> =
            deps.iter().filter(|d| is_aws_sdk(d) && *d != "aws_lambda_events" && *d != "aws-lc-rs").collect();
        assert!(sdk.is_empty(), "{name} depends on {sdk:?}: AWS calls belong in polo-aws");
    }
}

#[test]
fn the_web_crate_knows_no_aws() {
    let all = packages();
    let (_, deps) = &all["polo-web"];
    assert!(
        !deps.iter().any(|d| d == "polo-aws"),
        "polo-web depends on polo-aws: route mains hand it the stores"
    );
}

#[test]
fn no_scheduled_job_depends_on_the_web_crate() {
    let all = packages();
    let jobs: Vec<String> = functions().into_iter().filter(|(_, routed)| !routed).map(|(n, _)| n).collect();
    assert!(jobs.len() >= 4, "cop, reporter, sync, alarms at least: {jobs:?}");
    for job in &jobs {
        let (_, deps) = &all[job];
        assert!(!deps.iter().any(|d| d == "polo-web"), "{job} depends on polo-web");
        assert!(offending(deps, HTTP).is_empty(), "{job} depends on {:?}", offending(deps, HTTP));
    }
}

#[test]
fn no_lambda_binary_compiles_the_sample_generator() {
    let meta = metadata();
    let functions: Vec<String> = functions().into_iter().map(|(n, _)| n).collect();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        if !functions.iter().any(|f| f == name) {
            continue;
        }
        for d in p["dependencies"].as_array().unwrap() {
            let normal = d["kind"].is_null();
            let sample = d["features"].as_array().unwrap().iter().any(|f| f == "sample");
            assert!(!(normal && sample), "{name} compiles polo-core's sample generator into its binary");
        }
    }
}

#[test]
fn no_function_depends_on_another() {
    let all = packages();
    let names: Vec<String> = functions().into_iter().map(|(n, _)| n).collect();
    for name in &names {
        let (_, deps) = &all[name];
        let others: Vec<&String> = deps.iter().filter(|d| names.contains(d)).collect();
        assert!(others.is_empty(), "{name} depends on {others:?}");
    }
}

#[test]
fn the_lambda_bootstrap_knows_no_http() {
    let all = packages();
    let (_, deps) = &all["polo-lambda"];
    let bad = offending(deps, &[HTTP, &["lambda_http"]].concat());
    assert!(bad.is_empty(), "polo-lambda depends on {bad:?}");
}

#[test]
fn each_crate_lives_in_a_directory_of_its_name() {
    for (name, (dir, _)) in packages() {
        let expected = match dir.split_once('/') {
            // A function's crate is `polo-{function}`; its binary is the function's name.
            Some(("functions", function)) => format!("polo-{function}"),
            Some((_, last)) => last.to_owned(),
            None => dir.clone(),
        };
        let expected = if dir == "tests" { "polo-tests".to_owned() } else { expected };
        assert_eq!(name, expected, "crate {name} lives in {dir}");
    }
}

/// Every Rust source file of the shipped crates (`libs/*/src`, `functions/*/src`,
/// `tools/polo/src`), with its text, test modules cut off at their `#[cfg(test)]`.
fn production_sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    for parent in ["libs", "functions"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap() {
            dirs.push(entry.unwrap().path().join("src"));
        }
    }
    dirs.push(root.join("tools/polo/src"));
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let shipped = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                files.push((path.strip_prefix(root).unwrap().display().to_string(), shipped));
            }
        }
    }
    files
}

#[test]
fn production_code_has_no_test_branches() {
    for (file, text) in production_sources() {
        assert!(!text.contains("cfg!(test)"), "{file} branches on cfg!(test)");
    }
}

/// Where the wall clock may be read: the one `SystemClock`, the timestamps of log, metric and
/// trace lines, and the invocation's deadline. Everything else takes `now` from a `Clock`.
const READS_THE_CLOCK: &[&str] = &[
    "libs/polo-core/src/clock.rs",
    "libs/polo-telemetry/src/logs.rs",
    "libs/polo-telemetry/src/emf.rs",
    "libs/polo-telemetry/src/xray.rs",
    "libs/polo-lambda/src/lib.rs",
];

#[test]
fn nothing_reads_the_wall_clock_but_the_clock() {
    for (file, text) in production_sources() {
        if READS_THE_CLOCK.contains(&file.as_str()) {
            continue;
        }
        for call in ["OffsetDateTime::now_utc()", "SystemTime::now()", "Utc::now()"] {
            assert!(!text.contains(call), "{file} calls {call}: take `now` from a Clock");
        }
    }
}

type Edges = BTreeMap<String, std::collections::BTreeSet<String>>;

/// The groups of polo-web (`src/{group}/` or `src/{group}.rs`) each group's files name
/// through `crate::…`; the root re-exports count as the group they come from.
fn web_module_edges() -> Edges {
    let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../libs/polo-web/src"));
    let root_names = [
        ("AppState", "app"),
        ("CurrentUser", "app"),
        ("AppError", "error"),
        ("ErrorReport", "error"),
        ("Format", "request"),
        ("Chrome", "response"),
    ];
    let mut edges = Edges::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().to_string_lossy().into_owned();
            let group = relative.split(['/', '.']).next().unwrap().to_owned();
            if group == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = edges.entry(group.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                let name: String =
                    text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let target = root_names.iter().find(|(n, _)| *n == name).map_or(name.as_str(), |(_, g)| *g);
                if target != group && !target.is_empty() {
                    deps.insert(target.to_owned());
                }
            }
        }
    }
    edges
}

/// Whether `to` can be reached from `from` (depth first, each group once).
fn reaches(edges: &Edges, from: &str, to: &str, seen: &mut Vec<String>) -> bool {
    for next in edges.get(from).into_iter().flatten() {
        if next == to {
            return true;
        }
        if !seen.contains(next) {
            seen.push(next.clone());
            if reaches(edges, next, to, seen) {
                return true;
            }
        }
    }
    false
}

#[test]
fn the_web_crate_has_no_module_cycle() {
    let edges = web_module_edges();
    assert!(edges.len() >= 6, "{edges:?}");
    for group in edges.keys() {
        assert!(
            !reaches(&edges, group, group, &mut Vec::new()),
            "{group} depends on itself through {:?}",
            edges[group]
        );
    }
}
