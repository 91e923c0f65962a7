#!/usr/bin/env python3
"""The `just run` loop: build `polo`, serve on :2200, rebuild and restart when sources
change, restart after a crash with a 5 s back-off, rebuild the CSS as templates change.

Watches libs functions tools templates static config (and data) by polling mtimes, so it
needs nothing beyond Python's standard library.
"""
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATCH = ["libs", "functions", "tools", "templates", "static", "config", "data/prices.json", "Cargo.toml"]
IGNORE = (os.sep + "target" + os.sep, os.sep + "node_modules" + os.sep)
BACKOFF = 5.0
PORT = os.environ.get("POLO_PORT", "2200")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def log(msg):
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def snapshot():
    """Path -> mtime of every watched file."""
    seen = {}
    for entry in WATCH:
        path = os.path.join(ROOT, entry)
        if os.path.isfile(path):
            seen[path] = os.stat(path).st_mtime_ns
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d not in ("target", "node_modules")]
            for name in filenames:
                full = os.path.join(dirpath, name)
                if any(part in full for part in IGNORE):
                    continue
                try:
                    seen[full] = os.stat(full).st_mtime_ns
                except FileNotFoundError:
                    pass
    return seen


def build():
    log("building polo…")
    result = subprocess.run(["cargo", "build", "--locked", "-p", "polo"], cwd=ROOT)
    if result.returncode != 0:
        log("build failed; fix the error and save again (the previous server keeps running)")
    return result.returncode == 0


def start():
    binary = os.path.join(TARGET, "debug", "polo")
    log(f"serving on http://127.0.0.1:{PORT}")
    return subprocess.Popen([binary, "serve", "--port", PORT], cwd=ROOT)


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    tailwind = subprocess.Popen(
        ["npx", "--no-install", "tailwindcss", "-i", "static/src/main.css", "-o", "static/dist/main.css", "--watch=always"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    server = None
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if build():
            server = start()
        seen = snapshot()
        restart_at = None
        while not stopping:
            time.sleep(0.5)
            now = snapshot()
            if now != seen:
                time.sleep(0.3)  # let an editor finish writing
                seen = snapshot()
                if build():
                    stop(server)
                    server = start()
                    restart_at = None
                continue
            if server and server.poll() is not None and restart_at is None:
                log(f"server exited with {server.returncode}; restarting in {BACKOFF:.0f} s")
                restart_at = time.monotonic() + BACKOFF
            if restart_at is not None and time.monotonic() >= restart_at:
                restart_at = None
                server = start()
    finally:
        stop(server)
        stop(tailwind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
