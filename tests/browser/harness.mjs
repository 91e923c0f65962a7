// What every browser suite shares: paths, a free loopback port, `polo serve` started and
// awaited, and Debian's Chromium launched the way the project allows.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Starts the debug `polo` with `args`, and waits (10 s at most) until `ready` answers 200. */
export async function startPolo(args, ready) {
  const polo = join(target, 'debug', 'polo');
  if (!existsSync(polo)) throw new Error(`${polo} is not built: run \`cargo build -p polo\` (CARGO_TARGET_DIR=${target})`);
  const server = spawn(polo, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  server.on('error', (e) => console.error(`polo serve: ${e}`));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(ready)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

/** Debian's headless Chromium, never a downloaded one. */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
