#!/usr/bin/env python3
"""Runs one cargo command and records the units it used (compiled or already fresh), so
scripts/prune-target knows what to keep and scripts/one-feature-set what each build wants.

  scripts/cargo_units.py NAME cargo ARGS...   the record goes to TARGET/.polo-units.new/NAME

The test command moves `.polo-units.new` to `.polo-units` when the whole run has recorded
(scripts/prune-target reads only a complete set). Diagnostics are printed as cargo renders
them (on stderr); the exit status is cargo's.
"""
import json
import os
import re
import subprocess
import sys

# The hash cargo puts in a unit's name: `libserde-0123456789abcdef.rlib`,
# `build/serde-0123456789abcdef/out`, `.fingerprint/serde-0123456789abcdef`.
NAME_HASH = re.compile(r"-([0-9a-f]{16})(?:\..*)?$")
UNIT_FOLDERS = ("deps", "build", ".fingerprint")


def unit_hash(path):
    """The unit hash of a path under a target dir (`…/deps/NAME-HASH.ext`,
    `…/build/NAME-HASH/…`), judged on the unit's own component only, so a target dir whose
    path holds something hash-like changes nothing; None for an uplifted binary."""
    parts = path.split("/")
    # A unit is at most `build/NAME-HASH/out`: look no further up than that.
    for i in range(len(parts) - 2, max(len(parts) - 4, -1), -1):
        if parts[i] in UNIT_FOLDERS:
            match = NAME_HASH.search(parts[i + 1])
            return match.group(1) if match else None
    return None


def uplifted_from(path):
    """The unit under deps/ that `path`, a binary cargo copied up (`debug/polo`), came
    from: the hard link of it, else (a copy, where links fail) the newest of its name."""
    folder = os.path.join(os.path.dirname(path), "deps")
    # deps/ names a binary by its crate name: dashes become underscores.
    stem = os.path.basename(path).replace("-", "_") + "-"
    try:
        inode = os.stat(path).st_ino
        candidates = [os.path.join(folder, n) for n in os.listdir(folder)
                      if n.startswith(stem) and re.fullmatch(r"[0-9a-f]{16}", n[len(stem):])]
        linked = [c for c in candidates if os.stat(c).st_ino == inode]
        if linked:
            return linked
        return [max(candidates, key=os.path.getmtime)] if candidates else []
    except OSError:
        return []


def target_dir():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target"))


def records_dir():
    """Where this run's records go; the test command renames it to `.polo-units`."""
    return os.path.join(target_dir(), ".polo-units.new")


def run(args, record=None, cwd=None):
    """Runs `cargo ARGS --message-format json-render-diagnostics`; returns (exit status,
    [artifact messages]) and writes every path the build used to the record NAME."""
    args = list(args)
    at = args.index("--") if "--" in args else len(args)
    cmd = ["cargo", *args[:at], "--message-format", "json-render-diagnostics", *args[at:]]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=cwd)
    artifacts, paths = [], []
    for line in done.stdout.splitlines():
        if not line.startswith("{"):
            print(line)  # a test binary's own output (`cargo test`)
            continue
        message = json.loads(line)
        reason = message.get("reason")
        if reason == "compiler-artifact":
            artifacts.append(message)
            paths += message.get("filenames", [])
            if message.get("executable"):
                paths.append(message["executable"])
        elif reason == "build-script-executed":
            paths.append(message.get("out_dir", ""))
    paths += [unit for p in paths if p and unit_hash(p) is None for unit in uplifted_from(p)]
    if record:
        os.makedirs(records_dir(), exist_ok=True)
        with open(os.path.join(records_dir(), record), "w") as f:
            f.write("\n".join(p for p in paths if p) + "\n")
    return done.returncode, artifacts


def main():
    if len(sys.argv) < 3 or sys.argv[2] != "cargo":
        sys.exit("usage: scripts/cargo_units.py NAME cargo ARGS...")
    status, _ = run(sys.argv[3:], record=sys.argv[1])
    sys.exit(status)


if __name__ == "__main__":
    main()
