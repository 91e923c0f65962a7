// The build checks' own rules (scripts/one-feature-set, scripts/cargo_units.py), on made-up
// cargo answers: no build needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs Python with the two scripts loaded as `ofs` and `units`; returns its JSON output. */
function py(body) {
  const program = `
import importlib.machinery, importlib.util, json, sys
sys.path.insert(0, ${JSON.stringify(resolve(root, 'scripts'))})
import cargo_units as units
loader = importlib.machinery.SourceFileLoader('ofs', ${JSON.stringify(resolve(root, 'scripts', 'one-feature-set'))})
spec = importlib.util.spec_from_loader('ofs', loader)
ofs = importlib.util.module_from_spec(spec)
loader.exec_module(ofs)
${body}`;
  const r = spawnSync('python3', ['-c', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const serde = 'registry+https://github.com/rust-lang/crates.io-index#serde_json@1.0.1';

test('a build wanting a registry unit the test build lacks is named, whatever the cache holds', () => {
  const problems = py(`
ref = {("${serde}", "serde_json", "lib"): {"aaaaaaaaaaaaaaaa"}}
same = {("${serde}", "serde_json", "lib"): {"aaaaaaaaaaaaaaaa"}}
other = {("${serde}", "serde_json", "lib"): {"bbbbbbbbbbbbbbbb"}}
print(json.dumps([ofs.problems_of(ref, [(["build"], same)]), ofs.problems_of(ref, [(["build", "-p", "polo"], other)])]))`);
  assert.deepEqual(problems[0], [], 'the same unit: one feature set');
  assert.equal(problems[1].length, 1);
  assert.match(problems[1][0], /`cargo build -p polo` compiles 1 registry crates with another feature set than the test build: serde_json 1\.0\.1/);
});

test('one crate compiled two ways within the test build is a problem too', () => {
  const problems = py(`print(json.dumps(ofs.problems_of({("${serde}", "serde_json", "lib"): {"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"}}, [])))`);
  assert.deepEqual(problems, ['serde_json 1.0.1 (lib) is compiled 2 ways in the test build']);
});

test("a unit's hash is read from its own path component only", () => {
  const hashes = py(`print(json.dumps([units.unit_hash(p) for p in [
    "/x/build/y-0123456789abcdef/target/debug/deps/libserde-2f730ea311956d7c.rlib",
    "/t/debug/build/serde-3ca30b802c296342/build-script-build",
    "/t/debug/build/serde-4c7dac08d2873a65/out",
    "/x/build/y-0123456789abcdef/debug/polo",
    "deps/libfoo-2f730ea311956d7c.so",
    ".fingerprint/serde-2f730ea311956d7c",
    "deps/foo.d",
    "build/weird",
  ]]))`);
  assert.deepEqual(hashes, ['2f730ea311956d7c', '3ca30b802c296342', '4c7dac08d2873a65', null,
    '2f730ea311956d7c', '2f730ea311956d7c', null, null]);
});

test('an uplifted binary is traced to its unit: by hard link, else the newest of its crate name', () => {
  const found = py(`
import os, tempfile, time
d = tempfile.mkdtemp()
os.makedirs(f"{d}/debug/deps")
open(f"{d}/debug/deps/polo-1111111111111111", "w").write("old")
open(f"{d}/debug/deps/polo-2222222222222222", "w").write("linked")
open(f"{d}/debug/deps/polo-2222222222222222.d", "w").write("")
os.link(f"{d}/debug/deps/polo-2222222222222222", f"{d}/debug/polo")
open(f"{d}/debug/deps/foo_bar-3333333333333333", "w").write("old")
time.sleep(0.05)
open(f"{d}/debug/deps/foo_bar-4444444444444444", "w").write("new")
open(f"{d}/debug/foo-bar", "w").write("a copy")
short = lambda ps: [os.path.basename(p) for p in ps]
print(json.dumps([short(units.uplifted_from(f"{d}/debug/polo")), short(units.uplifted_from(f"{d}/debug/foo-bar")),
                  short(units.uplifted_from(f"{d}/debug/none"))]))`);
  assert.deepEqual(found, [['polo-2222222222222222'], ['foo_bar-4444444444444444'], []]);
});
