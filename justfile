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

# Run the tests: everything, `--local` (no emulator), `--integration` (emulator only), `--watch`;
# `--coverage` (line coverage per crate), `--report` (HTML), `--fail-under N` combine with them.
test *FLAGS:
    scripts/test {{FLAGS}}

# After adding or changing a dependency: regenerate libs/workspace-hack (one feature set for
# every build), add it to new members, and check both; scripts/one-feature-set proves it.
hakari:
    scripts/install-hakari
    cargo hakari generate
    cargo hakari manage-deps --yes
    cargo hakari verify
    scripts/one-feature-set

# Clippy with the workspace lints, and rustfmt.
lint:
    cargo clippy --locked --workspace --all-targets -- -D warnings

# Pull the fleet from AWS into data/sync and local_data.json: `just sync -r instances -p prod,staging`.
sync *ARGS:
    cargo run --locked -q -p polo -- sync {{ARGS}}

# Regenerate the committed sample snapshot (deterministic).
sample:
    cargo run --locked -q -p polo -- --now 2026-11-24T12:00:00Z sample --seed 42 --scale small --out data/sample_data.json

# Refresh data/prices.json from the AWS Price List API: `just prices --regions us-east-1,eu-west-1`.
prices *ARGS:
    cargo run --locked -q -p polo -- prices {{ARGS}}

# Every function, what it needs and its routes (`just manifest --json > cdk/manifest.json` for the CDK app).
manifest *ARGS:
    cargo run --locked -q -p polo -- manifest {{ARGS}}

# Every benchmark; numbers to bench/*.json, gathered into bench/results.json and docs/speed.md's table.
bench:
    scripts/bench

# The fuzz tests for longer than the test command runs them: `just fuzz 100000` (cases per target).
fuzz CASES="20000":
    scripts/fuzz {{CASES}}

# The functions of cdk/manifest.json (each binary has its function's name).
functions := `scripts/functions | tr '\n' ' '`

# Build every function with cargo-lambda into target/lambda/{function}/bootstrap.zip (release).
zip:
    cargo lambda build --locked --release --compiler cargo --output-format zip {{ replace_regex(functions, '(\S+)', '--bin $1') }}
    @for f in {{functions}}; do ls -l "$CARGO_TARGET_DIR/lambda/$f/bootstrap.zip"; done

# SAM build of an environment's app template with the cargo-lambda zips: `just build -p polo -e prod`.
build *ARGS:
    scripts/deploy build {{ARGS}}

# Debug build of the whole workspace.
cargo-build:
    cargo build --locked --workspace

# The CDK app offline: types, assertion tests, synth, cfn-lint.
cdk-check:
    scripts/cdk-check

# CDK bootstrap of the profile's account and region: `just bootstrap -p polo`.
bootstrap *ARGS:
    scripts/deploy bootstrap {{ARGS}}

# Deploy an environment: `just deploy -p polo -e prod` (`-c KEY=VALUE` context, `-s STACK`, `--exclusively`, `--dry-run`).
deploy *ARGS:
    scripts/deploy deploy {{ARGS}}

# Destroy an environment's app stack: `just destroy -p polo -e prod --force` (no question asked).
destroy *ARGS:
    scripts/deploy destroy {{ARGS}}
