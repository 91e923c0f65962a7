/** What the CDK tests build stacks from: the real manifest and fleet roles, placeholder zips. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fleetRoleArns } from '../lib/fleet.js';
import { FunctionSpec, loadManifest } from '../lib/manifest.js';

const here = dirname(fileURLToPath(import.meta.url));
export const manifest = loadManifest(resolve(here, '..', 'manifest.json'));
/** The names of the functions of `kind`, from the manifest. */
export const named = (kind?: FunctionSpec['kind']) =>
  manifest.functions.filter((f) => kind === undefined || f.kind === kind).map((f) => f.name);
export const routes = manifest.functions.flatMap((f) => f.routes.map((r) => ({ ...r, function: f.name })));
export const roles = fleetRoleArns(readFileSync(resolve(here, '..', '..', 'config', 'polo.toml'), 'utf8'));
export const repoRoot = resolve(here, '..', '..');

/** Placeholder zips: the assertions are about the template, not the code. */
export function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'polo-assets-'));
  for (const name of named()) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'bootstrap.zip'), 'placeholder');
  }
  return dir;
}
