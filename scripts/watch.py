#!/usr/bin/env python3
"""Runs a command, then again whenever a source file changes (polling; no dependencies)."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATCH = ["libs", "functions", "tools", "templates", "config", "tests"]


def snapshot():
    seen = {}
    for entry in WATCH:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, entry)):
            dirnames[:] = [d for d in dirnames if d not in ("target", "node_modules", "dist")]
            for name in filenames:
                full = os.path.join(dirpath, name)
                try:
                    seen[full] = os.stat(full).st_mtime_ns
                except FileNotFoundError:
                    pass
    return seen


def main():
    command = sys.argv[1:]
    try:
        while True:
            subprocess.run(command, cwd=ROOT)
            print("[watch] waiting for changes…", file=sys.stderr, flush=True)
            seen = snapshot()
            while snapshot() == seen:
                time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
