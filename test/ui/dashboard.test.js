// dashboard.test.js: the dashboard in a real browser (Debian's chromium,
// driven by puppeteer-core) against the real proxy, the real oidc-provider
// (fixtures/ui-issuer.js) and the fake API server (fixtures/ui-cluster.js).
// Run by test/e2e/t5060-ui.bats, which starts them and sets:
//   PROXY (https://127.0.0.1:PORT)  OUT (screenshots)  ISSUER_REC  CLUSTER_REC
// Prints one "ok - ..." line per step; the first failure exits 1.
import fs from 'node:fs';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

const { PROXY, OUT, ISSUER_REC, CLUSTER_REC } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const T = 20000;

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  acceptInsecureCerts: true, // the test CA is not in the browser's store
  args: [...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []), '--disable-gpu',
    '--no-first-run', '--disable-dev-shm-usage', '--window-size=1200,900'],
});

const seen = []; // every URL the browser asked for, from every page
const tokens = new Set(); // every ID token the issuer handed out
let failures = 0;

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}\n# ${String(e && e.stack || e).split('\n').join('\n# ')}`);
    throw e;
  }
}

async function newPage(ctx) {
  const page = await ctx.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  // any script of the hostile names that ran, any CSP violation, is recorded here
  await page.evaluateOnNewDocument(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  page.on('request', (r) => seen.push(r.url()));
  page.on('dialog', (d) => { failures++; console.log('# unexpected dialog: ' + d.message()); d.dismiss(); });
  page.on('response', async (r) => {
    if (r.request().method() === 'POST' && /\/token$/.test(new URL(r.url()).pathname)) {
      const body = await r.json().catch(() => ({}));
      if (body.id_token) tokens.add(body.id_token);
    }
  });
  page.on('console', (m) => { if (m.type() === 'error') console.log('# console: ' + m.text()); });
  return page;
}

const text = (page) => page.$eval('main', (m) => m.innerText);
const shot = (page, name) => page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });

async function signIn(page, user, here) {
  if (!here) await page.goto(`${PROXY}/ui/`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('#view button.primary', { visible: true, timeout: T });
  await Promise.all([page.waitForNavigation({ timeout: T }), page.click('#view button.primary')]);
  // the issuer asks for a login unless its own session is still there
  await page.waitForFunction(() => document.querySelector('input[name=login]') ||
    (location.pathname === '/ui/' && !document.getElementById('logout').hidden), { timeout: T });
  if (await page.$('input[name=login]')) {
    await page.type('input[name=login]', user);
    await page.type('input[name=password]', 'any-password');
    await Promise.all([page.waitForNavigation({ timeout: T }), page.click('button[type=submit]')]);
  }
  // back on the dashboard, possibly through the issuer's redirects
  await page.waitForFunction(() => location.pathname === '/ui/' && !document.getElementById('logout').hidden, { timeout: T });
}

async function noScriptRan(page) {
  const r = await page.evaluate(() => ({
    pwned: window.__pwned,
    violations: window.__violations,
    imgs: document.querySelectorAll('main img').length,
    scripts: [...document.scripts].map((s) => s.src),
  }));
  assert.equal(r.pwned, undefined, 'a hostile name ran as script');
  assert.equal(r.imgs, 0, 'a hostile name became an element');
  assert.deepEqual(r.scripts, [`${PROXY}/ui/app.js`]);
  assert.deepEqual(r.violations, [], 'the page broke its own Content-Security-Policy');
}

let page;
try {
  const ctx = await browser.createBrowserContext();
  page = await newPage(ctx);

  await step('the page is served with a strict CSP and no framing', async () => {
    const r = await page.goto(`${PROXY}/ui/`, { waitUntil: 'networkidle0' });
    const h = r.headers();
    assert.match(h['content-security-policy'], /default-src 'self'/);
    assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
    assert.doesNotMatch(h['content-security-policy'], /unsafe-(inline|eval)/);
    assert.equal(h['x-frame-options'], 'DENY');
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['referrer-policy'], 'no-referrer');
    await page.waitForSelector('#view button.primary', { visible: true, timeout: T });
    await shot(page, '0-signed-out');
  });

  await step('a forged return (code and state the browser never asked for) is refused', async () => {
    const before = seen.length;
    await page.goto(`${PROXY}/ui/?code=stolen-code&state=forged`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('[role=alert]', { timeout: T });
    assert.match(await text(page), /does not match this browser \(state\)/);
    assert.equal(new URL(page.url()).search, '', 'the code stays in the address bar');
    assert.ok(!seen.slice(before).some((u) => u.endsWith('/token')), 'the forged code was redeemed');
  });

  await step('alice signs in (code + PKCE) and the code leaves the URL', async () => {
    await signIn(page, 'alice');
    assert.equal(new URL(page.url()).search, '', 'the code stays in the address bar');
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'a login secret outlived the redirect');
    assert.equal(tokens.size, 1);
    const auth = seen.find((u) => u.includes('/auth?'));
    const q = new URL(auth).searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok(q.get('state') && q.get('nonce') && q.get('code_challenge'));
    assert.equal(q.get('client_id'), 'kubetenant-dashboard');
  });

  await step('My tenants: both of alice\'s tenants and not a third', async () => {
    await page.waitForSelector('ul.cards a', { timeout: T });
    const names = await page.$$eval('ul.cards a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(names, ['team-a', 'team-b']);
    await shot(page, '1-tenants');
  });

  await step('by keyboard: Tab reaches the first tenant, Enter opens it', async () => {
    await page.focus('.skip');
    let tabs = 0;
    while (tabs++ < 12 && !(await page.evaluate(() => document.activeElement.getAttribute('href') === '#/t/team-a')))
      await page.keyboard.press('Tab');
    assert.ok(tabs < 12, 'the tenant link cannot be reached by Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/t/team-a', { timeout: T });
    await page.goBack();
    // the tenant page may still be loading: it must not replace the list once shown
    await page.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent === 'My tenants', { timeout: T });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.$eval('h1', (e) => e.textContent), 'My tenants', 'a slower, older page replaced the current one');
  });

  await step('a tenant: workloads, pods, warnings first, hostile names as text', async () => {
    await page.click('ul.cards a[href="#/t/team-a"]');
    await page.waitForFunction(() => document.querySelectorAll('main table').length === 3, { timeout: T });
    const t = await text(page);
    assert.match(t, /web\t3\/3/);
    assert.match(t, /worker\t0\/1/);
    assert.ok(t.includes('<script>window.__pwned=1</script>'), 'the hostile Deployment name is not shown as text');
    assert.ok(t.includes('"><img src=x onerror="window.__pwned=2">'), 'the hostile pod name is not shown as text');
    assert.ok(t.includes('<img src=x onerror=window.__pwned=3><script>window.__pwned=4</script>'));
    assert.match(t, /CrashLoopBackOff\t7\t/);
    assert.match(t, /general/);
    const types = await page.$$eval('main section:nth-of-type(3) tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(types, ['Warning', 'Warning', 'Normal']);
    await noScriptRan(page);
    await shot(page, '2-tenant');
    // a phone: the page itself never scrolls sideways (wide tables scroll in their box)
    await page.setViewport({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page is wider than a phone');
    await shot(page, '2-tenant-narrow');
    await page.setViewport({ width: 1200, height: 900 });
  });

  await step('a pod: containers, last termination, log tail and follow', async () => {
    await page.click('a[href="#/t/team-a/pod/worker-5c8d7b9f4-qm2ns"]');
    await page.waitForFunction(() => document.getElementById('log') && document.getElementById('log').textContent.includes('worker loop 5'), { timeout: T });
    const t = await text(page);
    assert.match(t, /OOMKilled \(exit 137\)/);
    assert.match(t, /Waiting: CrashLoopBackOff/);
    await page.click('#follow');
    await page.waitForFunction(() => document.getElementById('log').textContent.includes('live line 3'), { timeout: T });
    assert.ok((await page.$eval('#log', (e) => e.textContent)).includes('<script>window.__pwned=4</script>'));
    await noScriptRan(page);
    await shot(page, '3-pod');
    await page.click('#follow'); // stop
  });

  await step('the hostile pod opens too, its name as text', async () => {
    await page.goto(`${PROXY}/ui/#/t/team-a`);
    await page.reload();
    // a reload forgets the token (memory only): the page asks to sign in again
    await page.waitForSelector('#view button.primary', { visible: true, timeout: T });
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
    await signIn(page, 'alice', true);
    assert.equal(new URL(page.url()).hash, '#/t/team-a', 'sign-in did not come back to the page asked for');
    await page.waitForSelector('main a[href^="#/t/team-a/pod/%22"]', { timeout: T });
    await page.click('main a[href^="#/t/team-a/pod/%22"]');
    await page.waitForFunction(() => document.querySelector('h1').textContent.startsWith('Pod "><img'), { timeout: T });
    await noScriptRan(page);
  });

  await step('Git sync: the failing Kustomization\'s message and both revisions', async () => {
    await page.click('nav a[href="#/t/team-a/git"]');
    await page.waitForSelector('main .alert', { timeout: T });
    const t = await text(page);
    assert.match(t, /denied the request: hostPath volumes are not allowed/);
    assert.match(t, /Applied revision\s+main@sha1:1a2b3c4d/);
    assert.match(t, /Attempted revision\s+main@sha1:9f8e7d6c/);
    assert.match(t, /ReconciliationFailed/);
    await shot(page, '4-git');
  });

  await step('Allowed: pool, cost code, hostnames, PSS, service types, quota used/hard', async () => {
    await page.click('nav a[href="#/t/team-a/allowed"]');
    await page.waitForSelector('main meter', { timeout: T });
    const t = await text(page);
    assert.match(t, /Node pool\s+general/);
    assert.match(t, /Cost code\s+CC-1001/);
    assert.match(t, /restricted:latest/);
    assert.match(t, /LoadBalancer/);
    assert.match(t, /team-a\.apps\.example\.org/);
    assert.match(t, /requests\.cpu\t1350m\t4/);
    assert.match(t, /requests\.memory\t2688Mi\t8Gi/);
    await noScriptRan(page);
    await shot(page, '5-allowed');
  });

  await step('Cost: requests over the pool\'s capacity, with a monthly estimate', async () => {
    await page.click('nav a[href="#/t/team-a/cost"]');
    await page.waitForSelector('#monthly', { timeout: T });
    const t = await text(page);
    assert.match(t, /Cost code\s+CC-1001/);
    // 1350m of 3860m CPU (35%), 2688Mi of 14Gi memory (19%): 35% of 2 x 54.90
    assert.match(t, /1\.35 of 3\.86 \(35%\)/);
    assert.equal(await page.$eval('#monthly', (e) => e.textContent), (1.35 / 3.86 * 109.8).toFixed(2));
    await shot(page, '6-cost');
  });

  await step('sign out clears the session and ends it at the issuer', async () => {
    await Promise.all([page.waitForNavigation({ timeout: T }), page.click('#logout')]);
    await page.waitForSelector('button[name=logout]', { timeout: T });
    await Promise.all([page.waitForNavigation({ timeout: T }), page.click('button[name=logout]')]);
    await page.waitForSelector('#view button.primary', { visible: true, timeout: T });
    assert.equal(new URL(page.url()).pathname, '/ui/');
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
    // the issuer's session is gone too: signing in asks for a login again
    await Promise.all([page.waitForNavigation({ timeout: T }), page.click('#view button.primary')]);
    await page.waitForSelector('input[name=login]', { timeout: T });
  });

  await step('a user in no tenant sees an explained, empty page', async () => {
    const ctx2 = await browser.createBrowserContext();
    const p2 = await newPage(ctx2);
    await signIn(p2, 'nobody');
    await p2.waitForFunction(() => document.querySelector('h1') && document.querySelector('h1').textContent === 'No tenant yet', { timeout: T });
    const t = await text(p2);
    assert.match(t, /none of your groups belongs to a tenant/);
    assert.match(t, /interns/);
    assert.equal(await p2.$$eval('[role=alert]', (a) => a.length), 0, 'an error instead of an explanation');
    await shot(p2, '7-no-tenant');
    await ctx2.close();
  });

  await step('no request carried a token in its URL', async () => {
    const rec = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const urls = [...seen, ...rec(ISSUER_REC).map((r) => r.url), ...rec(CLUSTER_REC).map((r) => r.url)];
    assert.equal(tokens.size, 3);
    for (const tok of tokens) {
      const sig = tok.split('.')[2];
      for (const u of urls) assert.ok(!u.includes(sig) && !decodeURIComponent(u).includes(sig), `token in ${u}`);
    }
    // and the API server never saw the user's token at all: only the proxy's
    for (const r of rec(CLUSTER_REC))
      for (const [k, v] of r.headers) if (k.toLowerCase() === 'authorization') assert.equal(v, 'Bearer proxy-sa-token-1');
    assert.ok(rec(CLUSTER_REC).some((r) => r.headers.some(([k, v]) => k === 'Impersonate-User' && v === 'oidc:alice')));
  });
} catch (e) {
  if (page) await shot(page, 'failure').catch(() => {});
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
