#!/usr/bin/env python3
"""Runs one cargo command and records the units it used (compiled or already fresh), so
scripts/prune-target knows what to keep and scripts/one-feature-set what each build wants.

  scripts/cargo_units.py NAME cargo ARGS...   the record goes to TARGET/.polo-units/NAME

Diagnostics are printed as cargo renders them (on stderr); the exit status is cargo's.
"""
import json
import os
import re
import subprocess
import sys


# A unit's file carries its hash (`deps/libserde-0123456789abcdef.rlib`); a binary cargo
# copies up beside deps/ (`debug/polo`) does not.
HASHED = re.compile(r"-[0-9a-f]{16}(?=[./]|$)")


def uplifted_from(path):
    """The unit files under deps/ that `path` (an uplifted binary) is a hard link of."""
    try:
        inode = os.stat(path).st_ino
        folder = os.path.join(os.path.dirname(path), "deps")
        stem = os.path.basename(path) + "-"
        return [os.path.join(folder, n) for n in os.listdir(folder)
                if n.startswith(stem) and os.stat(os.path.join(folder, n)).st_ino == inode]
    except OSError:
        return []


def target_dir():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target")


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
    paths += [unit for p in paths if p and not HASHED.search(p) for unit in uplifted_from(p)]
    if record:
        folder = os.path.join(target_dir(), ".polo-units")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, record), "w") as f:
            f.write("\n".join(p for p in paths if p) + "\n")
    return done.returncode, artifacts


def main():
    if len(sys.argv) < 3 or sys.argv[2] != "cargo":
        sys.exit("usage: scripts/cargo_units.py NAME cargo ARGS...")
    status, _ = run(sys.argv[3:], record=sys.argv[1])
    sys.exit(status)


if __name__ == "__main__":
    main()
