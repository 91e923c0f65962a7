# Polo's tasks. Run them through scripts/just, which installs just itself first.

set shell := ["bash", "-euo", "pipefail", "-c"]

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target")

# List the recipes.
default:
    @just --list

# Serve the dashboard on http://127.0.0.1:2200 on the sample data; rebuild and restart on change.
run:
    npm run --silent tailwind
    python3 scripts/devserver.py

# Build the CSS once, or keep rebuilding it: `just tailwind --watch`.
tailwind *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "{{ARGS}}" = "--watch" ]; then npm run --silent tailwind:watch; \
    elif [ -z "{{ARGS}}" ]; then npm run --silent tailwind; \
    else echo "tailwind: unknown argument {{ARGS}} (use --watch or nothing)" >&2; exit 2; fi

# Run the tests: everything, or `--local` (no emulator), `--integration` (emulator only),
# `--watch` (again on every change).
test *FLAGS:
    scripts/test {{FLAGS}}

# Clippy with the workspace lints, and rustfmt.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate the committed sample snapshot (deterministic).
sample:
    cargo run -q -p polo -- --now 2026-11-24T12:00:00Z sample --seed 42 --scale small --out data/sample_data.json

# Print the route table (`just routes --json` for the CDK app).
routes *ARGS:
    cargo run -q -p polo -- routes {{ARGS}}

# Measure page speed on the large sample; numbers go to bench/results.json.
bench:
    scripts/bench
