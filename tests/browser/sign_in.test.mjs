// Signing in through a real OpenID provider: the npm `oidc-provider` package (a certified
// implementation) on a loopback port, its own login and consent forms, and `polo serve`
// signing people in there (authorization code + PKCE), as a deployment does with Cognito.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import Provider from 'oidc-provider';

import { freePort, launchChromium, root, startPolo } from './harness.mjs';

let issuerServer;
let server;
let browser;
let base;
let issuer;

before(async () => {
  const [poloPort, issuerPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${poloPort}`;
  issuer = `http://127.0.0.1:${issuerPort}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'polo-browser',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${base}/auth/callback`],
        post_logout_redirect_uris: [`${base}/auth/logout`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    findAccount: (ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: id }),
    }),
    cookies: { keys: ['polo-browser-test-only'] },
  });
  provider.on('server_error', (ctx, err) => console.error(`oidc-provider: ${err}`));
  issuerServer = provider.listen(issuerPort);

  server = await startPolo(
    ['serve', '--port', String(poloPort), '--data', join(root, 'data', 'sample_data.json'), '--oidc-issuer', issuer, '--oidc-client-id', 'polo-browser'],
    `${base}/auth/logout`,
  );
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill();
  issuerServer?.close();
});

test('a person signs in at the provider, lands on the page asked for, and signs out', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  // Only Polo's pages are held to Polo's CSP; the provider's forms are its own business.
  page.on('console', (m) => {
    if (page.url().startsWith(base) && (m.type() === 'error' || /Content Security Policy/i.test(m.text()))) problems.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });

  // Asking for a page without a session goes to the provider's login form.
  await page.goto(`${base}/instances?state=stopped`);
  await page.waitForURL((u) => u.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill('ada');
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  // The provider asks for consent once; then it sends the browser back to Polo.
  await page.waitForURL((u) => u.href.startsWith(base) || /interaction/.test(u.pathname));
  if (!page.url().startsWith(base)) {
    await page.locator('button[type="submit"]').first().click();
  }
  await page.waitForURL((u) => u.href.startsWith(`${base}/instances`));
  assert.equal(new URL(page.url()).search, '?state=stopped', 'back on the page asked for');
  assert.match(await page.locator('header').textContent(), /ada@example\.com/);
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === 'polo_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  // htmx requests ride the session too.
  await page.selectOption('#filters select[name="account"]', 'staging');
  await page.waitForURL(/account=staging/);
  assert.match(await page.locator('header').textContent(), /ada@example\.com/);

  // The role is shown beside the name: no operator group, so a viewer.
  assert.equal((await page.locator('header #role').textContent()).trim(), 'viewer');

  // Signing out (a POST carrying the session's CSRF token) ends the session here and at the
  // provider.
  await page.locator('header button', { hasText: 'Log out' }).click();
  await page.waitForURL((u) => u.href.startsWith(issuer));
  await page.locator('button[name="logout"][value="yes"], button[type="submit"]').first().click();
  await page.waitForURL(`${base}/auth/logout`);
  assert.match(await page.locator('h1').textContent(), /signed out/);
  assert.equal((await context.cookies(base)).find((c) => c.name === 'polo_session'), undefined);

  // The next visit has to sign in again, even with the old cookie put back (the server has
  // forgotten its session).
  await context.addCookies([{ ...session }]);
  await page.goto(`${base}/`);
  await page.waitForURL((u) => u.href.startsWith(issuer));
  assert.ok(await page.locator('input[name="login"]').count());
  assert.deepEqual(problems, []);
  await context.close();
});
