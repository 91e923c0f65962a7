/** What the CDK tests build stacks from: the real routes and fleet roles, placeholder zips. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ALL_FUNCTIONS } from '../lib/app-stack.js';
import { fleetRoleArns, loadRoutes } from '../lib/routes.js';

const here = dirname(fileURLToPath(import.meta.url));
export const routes = loadRoutes(resolve(here, '..', 'routes.json'));
export const roles = fleetRoleArns(readFileSync(resolve(here, '..', '..', 'config', 'polo.toml'), 'utf8'));
export const repoRoot = resolve(here, '..', '..');

/** Placeholder zips: the assertions are about the template, not the code. */
export function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'polo-assets-'));
  for (const name of ALL_FUNCTIONS) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'bootstrap.zip'), 'placeholder');
  }
  return dir;
}
