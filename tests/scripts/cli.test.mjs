// The deploy and test commands, as the old tool's users type them: each parsed into the
// command it would run (`--dry-run`), without credentials, a build or a network.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = { ...process.env, CARGO_TARGET_DIR: '/cache/target', AWS_PROFILE: '', AWS_ACCESS_KEY_ID: '' };

/** Runs `scripts/NAME ARGS --dry-run`: stdout, stderr and status. */
function dryRun(name, args) {
  const r = spawnSync(resolve(root, 'scripts', name), [...args, '--dry-run'], { cwd: root, env, encoding: 'utf8' });
  return { out: r.stdout.trim(), err: r.stderr.trim(), status: r.status };
}

function runs(name, args, expected) {
  const r = dryRun(name, args);
  assert.equal(r.status, 0, `${name} ${args.join(' ')}: ${r.err}`);
  assert.equal(r.out, expected, `${name} ${args.join(' ')}`);
}

function refuses(name, args, message) {
  const r = dryRun(name, args);
  assert.equal(r.status, 2, `${name} ${args.join(' ')} should fail: ${r.out}`);
  assert.match(r.err, message);
  assert.equal(r.err.split('\n').length, 1, 'one line');
}

const assets = '-c assetsDir=/cache/target/lambda';

test('deploy -p polo -e prod deploys the prod environment with that profile', () => {
  runs('deploy', ['deploy', '-p', 'polo', '-e', 'prod'],
    `(cd cdk && npx cdk deploy prod-PoloApp --profile polo -c env=prod ${assets} --require-approval never)`);
});

test('-s and --exclusively work with environment-qualified names', () => {
  const expected = `(cd cdk && npx cdk deploy prod-PoloApp --profile polo -c env=prod ${assets} --exclusively --require-approval never)`;
  runs('deploy', ['deploy', '-p', 'polo', '-e', 'prod', '-s', 'PoloApp', '--exclusively'], expected);
  runs('deploy', ['deploy', '-p', 'polo', '-e', 'prod', '-s', 'prod-PoloApp', '--exclusively'], expected);
  runs('deploy', ['deploy', '-s', 'PoloPipeline'], `(cd cdk && npx cdk deploy PoloPipeline -c env=dev ${assets} --require-approval never)`);
  refuses('deploy', ['deploy', '-e', 'dev', '-s', 'prod-PoloApp'], /belongs to environment prod, not dev \(add -e prod\)/);
  refuses('deploy', ['deploy', '-s', 'Polo'], /unknown stack Polo/);
  refuses('deploy', ['destroy', '--exclusively'], /--exclusively is for deploy/);
});

test('without -e the environment is dev', () => {
  runs('deploy', ['deploy'], `(cd cdk && npx cdk deploy dev-PoloApp -c env=dev ${assets} --require-approval never)`);
});

test('context moved to -c KEY=VALUE, repeatable; -e KEY=VALUE says so', () => {
  runs('deploy', ['deploy', '-e', 'staging', '-c', 'reportTimezone=Europe/Paris', '-c', 'reservedConcurrency=false'],
    `(cd cdk && npx cdk deploy staging-PoloApp -c env=staging ${assets} -c reportTimezone=Europe/Paris -c reservedConcurrency=false --require-approval never)`);
  refuses('deploy', ['deploy', '-e', 'reportTimezone=UTC'], /-e names an environment now \(e\.g\. -e prod\); pass CDK context as -c reportTimezone=UTC/);
  refuses('deploy', ['deploy', '-c', 'reportTimezone'], /-c needs KEY=VALUE/);
  refuses('deploy', ['deploy', '-c', 'env=prod'], /the environment is -e prod/);
  refuses('deploy', ['deploy', '-e', 'Prod'], /expected lower-case letters, digits and inner hyphens/);
  refuses('deploy', ['deploy', '-e', 'laws'], /AWS reserves "aws" in bucket or sign-in domain names/);
  refuses('deploy', ['deploy', '-p'], /-p needs a value/);
});

test('destroy -p polo -e prod --force tears prod down without asking', () => {
  const r = dryRun('deploy', ['destroy', '-p', 'polo', '-e', 'prod', '--force']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^\(cd cdk && npx cdk destroy prod-PoloApp --profile polo -c env=prod -c assetsDir=\S+ --force\)$/);
  refuses('deploy', ['deploy', '--force'], /--force is for destroy/);
});

test('bootstrap -p polo bootstraps the profile account, outside the app', () => {
  runs('deploy', ['bootstrap', '-p', 'polo'], '(cd . && cdk/node_modules/.bin/cdk bootstrap --profile polo)');
});

test('build -p polo -e prod synthesizes prod-PoloApp and SAM-builds it', () => {
  runs('deploy', ['build', '-p', 'polo', '-e', 'prod'], [
    `(cd cdk && npx cdk synth prod-PoloApp --quiet --profile polo -c env=prod ${assets})`,
    'sam build --template-file cdk/cdk.out/prod-PoloApp.template.json --build-dir .aws-sam/build',
  ].join('\n'));
});

test('test flags combine: --coverage --local --fail-under 80', () => {
  const r = dryRun('test', ['--coverage', '--local', '--fail-under', '80']);
  assert.equal(r.status, 0, r.err);
  const [install, run, summary] = r.out.split('\n');
  assert.equal(install, 'scripts/install-tarpaulin');
  assert.match(run, /^cargo tarpaulin --engine ptrace .*--workspace --exclude polo-tests$/);
  assert.ok(!run.includes('with-moto'), 'local coverage needs no emulator');
  assert.ok(!run.includes('Html'));
  assert.match(summary, /coverage-summary \S+tarpaulin-report\.json --fail-under 80$/);
});

test('--report and --fail-under imply --coverage; --integration runs the emulator tests', () => {
  const r = dryRun('test', ['--integration', '--fail-under=72.5', '--report']);
  assert.equal(r.status, 0, r.err);
  const [, run, summary] = r.out.split('\n');
  assert.match(run, /^scripts\/with-moto cargo tarpaulin .*--out Html -p polo-tests --test aws$/);
  assert.match(summary, /--fail-under 72\.5 --report \S+tarpaulin-report\.html$/);
  assert.match(dryRun('test', ['--coverage']).out.split('\n')[1], /^scripts\/with-moto cargo tarpaulin .* --workspace$/);
});

test('a bad threshold or combination is one error', () => {
  for (const bad of ['abc', '120', '-5', '80%']) {
    refuses('test', ['--coverage', '--fail-under', bad], /--fail-under needs a percentage from 0 to 100/);
  }
  refuses('test', ['--local', '--integration'], /exclude each other/);
  refuses('test', ['--watch', '--coverage'], /--watch does not combine with coverage/);
  refuses('test', ['--bogus'], /unknown flag --bogus/);
  refuses('test', ['--cold', '--local'], /--cold runs the whole test command in a fresh clone/);
});

test('--cold runs the test command in a fresh clone', () => {
  runs('test', ['--cold'], 'scripts/cold-test');
});

test("docs/speed.md's table is what bench/results.json says", () => {
  const r = spawnSync('python3', [resolve(root, 'scripts', 'bench-results'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('bench/results.json lists figures with a value, unit, target and verdict', async () => {
  const { readFileSync } = await import('node:fs');
  const rows = JSON.parse(readFileSync(resolve(root, 'bench', 'results.json'), 'utf8'));
  assert.ok(Array.isArray(rows) && rows.length > 20, 'a list of figures');
  for (const row of rows) {
    for (const key of ['name', 'value', 'unit', 'target', 'compare', 'pass']) assert.ok(key in row, `${row.name}: ${key}`);
    assert.ok(['<=', '>='].includes(row.compare), row.name);
    if (row.target !== null && row.value !== null) {
      assert.equal(row.pass, row.compare === '<=' ? row.value <= row.target : row.value >= row.target, row.name);
    }
  }
});
