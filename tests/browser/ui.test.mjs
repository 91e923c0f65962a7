// Polo's pages in a real headless Chromium (Debian's /usr/bin/chromium via playwright-core)
// against `polo serve` on a free port, on the bundled sample at a fixed instant.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { freePort, launchChromium, root, startPolo, target } from './harness.mjs';

const results = join(root, 'tests', 'browser', 'test-results');
let server;
let browser;
let base;

before(async () => {
  mkdirSync(results, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Reports of the sample, built by the CLI into a state directory of this run.
  const state = mkdtempSync(join(tmpdir(), 'polo-state-'));
  const sample = join(root, 'data', 'sample_data.json');
  for (const kind of ['daily-cost', 'weekly-summary', 'monthly-close', 'inventory-changes', 'idle-resources']) {
    execFileSync(join(target, 'debug', 'polo'), ['--now', '2026-11-24T12:00:00Z', '--state', state, 'report', kind, '--data', sample], { cwd: root, stdio: 'ignore' });
  }
  execFileSync(join(target, 'debug', 'polo'), ['--now', '2026-11-24T12:00:00Z', '--state', state, 'cop', '--data', sample], { cwd: root, stdio: 'ignore' });
  server = await startPolo(
    ['--now', '2026-11-24T12:00:00Z', '--state', state, 'serve', '--port', String(port), '--data', sample],
    `${base}/`,
  );
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** A fresh page that records console errors and CSP violations. */
async function open(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, problems, context };
}

test('typing in the header search shows ranked results as one types', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/`);
  await page.locator('#site-search').pressSequentially('acm', { delay: 30 });
  const customers = page.locator('#search-results [data-kind="customers"] a');
  await customers.first().waitFor();
  assert.match(await customers.first().textContent(), /acme/);
  await page.waitForTimeout(400);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.getElementById('search-results').innerHTML === '');
  await page.locator('#site-search').fill('');
  await page.locator('#site-search').pressSequentially('idx-0rphan', { delay: 20 });
  await page.locator('#search-results [data-testid="no-results"]').waitFor();
  await page.locator('#site-search').press('Enter');
  await page.waitForURL(/\/search\?q=idx-0rphan/);
  assert.match(await page.locator('h1').textContent(), /Search/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('filter, sort and page a table: the URL and the rows change, back restores', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/instances`);
  const firstId = () => page.locator('#instances-table tbody tr:first-child td:first-child').textContent();
  const start = await firstId();
  await page.selectOption('#filters select[name="account"]', 'staging');
  await page.waitForURL(/account=staging/);
  await page.locator('#instances-table tbody tr').first().waitFor();
  const accounts = await page.locator('#instances-table tbody tr td:nth-child(3)').allTextContents();
  assert.ok(accounts.length > 0 && accounts.every((a) => a.trim() === 'staging'), accounts.join(','));
  await page.locator('#instances-table thead a', { hasText: 'Name' }).click();
  await page.waitForURL(/sort=name/);
  await page.waitForFunction(() => document.querySelector('#filters select[name="sort"]').value === 'name');
  const names = (await page.locator('#instances-table tbody tr td:nth-child(2)').allTextContents()).map((n) => n.trim());
  assert.deepEqual(names, [...names].sort());
  await page.locator('#instances-table thead a', { hasText: 'Name' }).click();
  await page.waitForURL(/sort=-name/);
  await page.locator('nav[aria-label="Pages"] a[rel="next"]').first().click();
  await page.waitForURL(/page=2/);
  assert.match(await page.locator('[data-testid="range"]').first().textContent(), /Showing 51–/);
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('page=2'));
  // The URL changes first; htmx restores the page from history right after.
  await page.waitForFunction(() => /Showing 1–/.test(document.querySelector('[data-testid="range"]')?.textContent ?? ''));
  // Each Back waits for its page to be back (the form shows that view) before the next, as a
  // person reads before pressing again: a restore still in flight when the next Back comes
  // would land on the wrong URL.
  const shows = (sort, account) =>
    page.waitForFunction(
      ([s, a]) =>
        document.querySelector('#filters select[name="sort"]')?.value === s &&
        document.querySelector('#filters select[name="account"]')?.value === a,
      [sort, account],
    );
  await page.goBack();
  await page.waitForURL(/sort=name(&|$)/);
  await shows('name', 'staging');
  await page.goBack();
  await page.waitForURL((u) => u.search.includes('account=staging') && !/sort=[^&]/.test(u.search));
  await shows('', 'staging');
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('account'));
  await shows('', '');
  // As above, the URL changes before htmx puts the unfiltered rows back, and a history miss
  // reloads the whole page (a waitForFunction dies with its document then): read the first
  // row again until it is the unfiltered one, for up to 5 s.
  let first;
  for (const until = Date.now() + 5000; Date.now() < until; await page.waitForTimeout(100)) {
    first = await firstId().catch(() => undefined);
    if (first === start) break;
  }
  assert.equal(first, start);
  assert.deepEqual(problems, []);
  await context.close();
});

test('detail pages link an index and its instances both ways', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/indexes?sort=-instances`);
  await page.locator('#indexes-table tbody tr:first-child td:first-child a').click();
  await page.waitForURL(/\/indexes\/idx-/);
  const indexUrl = page.url();
  await page.locator('#index-instances a').first().click();
  await page.waitForURL(/\/instances\/i-/);
  assert.match(await page.locator('h2', { hasText: 'Tags' }).textContent(), /Tags/);
  await page.locator('a[href^="/indexes/idx-"]').first().click();
  await page.waitForURL(indexUrl);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a 390 px phone gets no horizontal scroll on any kind of page', async () => {
  const { page, problems, context } = await open({ viewport: { width: 390, height: 844 }, isMobile: true });
  const first = async (list) => (await (await fetch(`${base}/${list}?format=json&per_page=1`)).json()).items[0];
  const instance = (await first('instances')).id;
  const index = (await first('indexes')).index_id;
  const pages = [
    '/', '/instances', '/indexes', `/instances/${instance}`, `/indexes/${index}`, '/search?q=acme',
    '/search?q=zzzz-nothing', '/nosuch', '/instances?page=abc', '/instances/i-0nosuch', '/auth/logout',
    '/costs', '/costs/index', '/costs/customer', `/costs/index/${index}`, '/costs/changes', '/costs/changes?dimension=customer',
    '/reports', '/reports/daily-cost/2026-11-23', '/reports/weekly-summary/2026-W47', '/reports/monthly-close/2026-10',
    '/reports/inventory-changes/2026-11-23', '/reports/idle-resources/2026-11-23', '/cop', '/cop?severity=critical',
  ];
  const errorPages = new Set(['/nosuch', '/instances?page=abc', '/instances/i-0nosuch']);
  for (const path of pages) {
    const seen = problems.length;
    await page.goto(`${base}${path}`);
    if (errorPages.has(path)) {
      // The page's own 4xx is the point; anything else it logs is still a problem.
      const own = problems.splice(seen).filter((p) => !/Failed to load resource: the server responded with a status of 40[04]/.test(p));
      problems.push(...own);
    }
    // A mobile browser zooms out to fit wide content, so compare with the phone's 390 px,
    // not with innerWidth.
    const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
    assert.ok(width <= 390, `${path} is ${width}px wide on a 390 px phone`);
  }
  await page.goto(`${base}/instances`);
  await page.screenshot({ path: join(results, 'instances-390.png'), fullPage: false });
  assert.deepEqual(problems, []);
  await context.close();
});

test('cost tables swap in place and the chart draws without script or CSP trouble', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/costs/index`);
  const firstKey = () => page.locator('#costs-table tbody tr:first-child td:first-child').textContent();
  await page.locator('#costs-table thead a', { hasText: 'Key' }).click();
  await page.waitForURL(/sort=key/);
  const ascending = await firstKey();
  await page.locator('#costs-table thead a', { hasText: 'Key' }).click();
  await page.waitForURL(/sort=-key/);
  assert.ok((await firstKey()) > ascending, 'descending after ascending');
  assert.equal(await page.locator('#costs-table tfoot #total').count(), 1, 'the total stays under the table');
  await page.locator('#costs-table tbody tr:first-child td:first-child a').click();
  await page.waitForURL(/\/costs\/index\/idx-/);
  const bars = await page.locator('#cost-chart rect').count();
  assert.equal(bars, 90, 'a bar per day of the last 90');
  assert.ok(await page.locator('#cost-chart rect title').first().textContent());
  assert.deepEqual(problems, []);
  await context.close();
});

test('why costs changed: sorted in place, each change a waterfall with its events', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/costs/changes`);
  assert.ok(await page.locator('#changes-table tbody tr').count() > 5);
  await page.locator('#changes-table thead a', { hasText: 'Fleet size' }).click();
  await page.waitForURL(/sort=fleet_size/);
  await page.locator('#changes-table thead a', { hasText: 'Fleet size' }).click();
  await page.waitForURL(/sort=-fleet_size/);
  const first = page.locator('#changes-table tbody tr:first-child');
  assert.match(await first.locator('td:nth-child(6)').textContent(), /^\+\$/, 'the largest fleet-size rise first');
  assert.ok((await first.locator('[data-top-cause]').textContent()).includes('%)'), 'its main cause in a line');
  await first.locator('td:first-child a').click();
  await page.waitForURL(/\/costs\/index\/idx-.*from=/);
  assert.equal(await page.locator('#cost-waterfall rect[data-step]').count(), 6, 'before, four causes, after');
  assert.ok(await page.locator('table[data-cause] td[data-actor]').count() > 0, 'the events, with who made them');
  await page.screenshot({ path: join(results, 'cost-changes.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('everything works with JavaScript off', async () => {
  const { page, context } = await open({ javaScriptEnabled: false });
  await page.goto(`${base}/instances`);
  await page.selectOption('#filters select[name="state"]', 'stopped');
  await page.locator('#filters button[type="submit"]').click();
  await page.waitForURL(/state=stopped/);
  const states = await page.locator('#instances-table tbody tr td:nth-child(7)').allTextContents();
  assert.ok(states.length > 0 && states.every((s) => s.trim() === 'stopped'));
  await page.goto(`${base}/search?q=acme`);
  assert.ok((await page.locator('#search-page-results [data-kind="customers"]').count()) === 1);
  await context.close();
});

test('the reports table filters by type in place and a report draws its chart', async () => {
  const { page, problems, context } = await open();
  await page.goto(`${base}/reports`);
  assert.equal(await page.locator('#latest li').count(), 5, 'the latest of each type');
  await page.locator('select[name="type"]').selectOption('monthly-close');
  await page.waitForURL(/type=monthly-close/);
  await page.waitForFunction(() => [...document.querySelectorAll('#reports-table tbody tr[data-type]')].every((r) => r.dataset.type === 'monthly-close'));
  assert.equal(await page.locator('#reports-table tbody tr[data-type]').count(), 1);
  await page.locator('#reports-table tbody a').first().click();
  await page.waitForURL(/\/reports\/monthly-close\/2026-10$/);
  assert.ok((await page.locator('#report-chart rect').count()) >= 28, 'a bar per day of the month');
  assert.ok(await page.locator('#report-chart rect title').first().textContent());
  assert.deepEqual(problems, []);
  await context.close();
});
