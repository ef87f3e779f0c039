// kubetenant dashboard: a public OIDC client (authorization code + PKCE)
// that calls the Kubernetes API through the proxy with the user's own token.
// It has no privilege of its own: every answer is what the user's RBAC
// allows.  Every value from the API is hostile and goes into the page as
// text (textContent), never as markup.
'use strict';

(() => {
  const REDIRECT = location.origin + '/ui/';
  const LOGIN_KEY = 'kubetenant.login'; // PKCE verifier, state, nonce: the redirect only
  const SCOPES = 'openid profile email groups';
  const FLUX_SOURCE = '/apis/source.toolkit.fluxcd.io/v1';
  const FLUX_KUSTOMIZE = '/apis/kustomize.toolkit.fluxcd.io/v1';
  const INFO_CONFIGMAP = 'kubetenant-tenant';

  let cfg = null; // /ui/config.json
  let disco = null; // the issuer's discovery document
  let session = null; // { token, claims }: in memory only
  let follow = null; // AbortController of a followed log
  let live = 0; // the latest navigation

  const $ = (id) => document.getElementById(id);

  // h('td', {class: 'bad'}, 'text', node): strings become text nodes, never HTML.
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    }
    for (const c of kids.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function status(msg) {
    $('status').textContent = msg || '';
  }

  function b64url(bytes) {
    let s = '';
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function random() {
    return b64url(crypto.getRandomValues(new Uint8Array(32)));
  }

  function claimsOf(jwt) {
    const part = String(jwt).split('.')[1] || '';
    const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  // ---- OIDC: authorization code + PKCE (S256), public client ----

  async function discover() {
    const base = cfg.issuer.replace(/\/$/, '');
    const r = await fetch(base + '/.well-known/openid-configuration', { credentials: 'omit' });
    if (!r.ok) throw new Error('the issuer cannot be reached (' + r.status + ')');
    const d = await r.json();
    if (d.issuer !== cfg.issuer) throw new Error('the issuer names itself differently');
    // the page navigates to and posts to these: https URLs only, never script
    for (const k of ['authorization_endpoint', 'token_endpoint', 'end_session_endpoint']) {
      if (d[k] === undefined && k === 'end_session_endpoint') continue;
      if (typeof d[k] !== 'string' || !d[k].startsWith('https://')) throw new Error('the issuer\'s ' + k + ' is not an https URL');
    }
    return d;
  }

  async function login() {
    const verifier = random();
    const state = random();
    const nonce = random();
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify({ verifier, state, nonce, back: location.hash }));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: cfg.clientId,
      redirect_uri: REDIRECT,
      scope: SCOPES,
      state,
      nonce,
      code_challenge: b64url(digest),
      code_challenge_method: 'S256',
    });
    location.assign(disco.authorization_endpoint + '?' + q);
  }

  // Back from the issuer: ?code=&state= (or ?error=).  The code leaves the
  // URL at once; the verifier is used once and forgotten.
  async function finishLogin(params) {
    const saved = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || 'null');
    sessionStorage.removeItem(LOGIN_KEY);
    history.replaceState(null, '', REDIRECT + ((saved && saved.back) || ''));
    if (params.get('error'))
      throw new Error('sign-in refused: ' + params.get('error') + ' ' + (params.get('error_description') || ''));
    if (!saved || !params.get('state') || params.get('state') !== saved.state)
      throw new Error('sign-in answer does not match this browser (state): please sign in again');
    const r = await fetch(disco.token_endpoint, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code') || '',
        redirect_uri: REDIRECT,
        client_id: cfg.clientId,
        code_verifier: saved.verifier,
      }),
    });
    const t = await r.json().catch(() => ({}));
    if (!r.ok || !t.id_token) throw new Error('the issuer gave no ID token: ' + (t.error || r.status));
    const c = claimsOf(t.id_token);
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (c.nonce !== saved.nonce) throw new Error('the ID token is not for this sign-in (nonce)');
    if (c.iss !== cfg.issuer || !aud.includes(cfg.clientId))
      throw new Error('the ID token is for another issuer or client');
    // the proxy verifies the signature on every call; this copy is for display only
    session = { token: t.id_token, claims: c };
  }

  function logout() {
    stopFollow();
    const hadSession = session !== null;
    session = null;
    sessionStorage.clear();
    showSignedOut('You are signed out.');
    // no id_token_hint: a token never goes into a URL
    if (hadSession && disco && disco.end_session_endpoint) {
      const q = new URLSearchParams({ client_id: cfg.clientId, post_logout_redirect_uri: REDIRECT });
      location.assign(disco.end_session_endpoint + '?' + q);
    }
  }

  // ---- the API, same origin, through the proxy ----

  class ApiError extends Error {
    constructor(code, msg) {
      super(msg);
      this.code = code;
    }
  }

  async function api(path, opts) {
    const o = opts || {};
    const r = await fetch(path, {
      method: o.body ? 'POST' : 'GET',
      credentials: 'omit',
      signal: o.signal,
      headers: Object.assign(
        { Authorization: 'Bearer ' + session.token, Accept: 'application/json' },
        o.body ? { 'Content-Type': 'application/json' } : {},
      ),
      body: o.body ? JSON.stringify(o.body) : undefined,
    });
    if (r.status === 401) {
      session = null;
      showSignedOut('Your session has ended: sign in again.');
      throw new ApiError(401, 'signed out');
    }
    if (o.raw) {
      if (!r.ok) throw new ApiError(r.status, await message(r));
      return r;
    }
    if (!r.ok) throw new ApiError(r.status, await message(r));
    return r.json();
  }

  async function message(r) {
    const s = await r.json().catch(() => null);
    return (s && s.message) || r.status + ' ' + r.statusText;
  }

  // A list the user may not be allowed to read: null instead of an error.
  async function maybe(path) {
    try {
      return await api(path);
    } catch (e) {
      if (e.code === 403 || e.code === 404) return null;
      throw e;
    }
  }

  function canI(ns, verb, resource, group) {
    return api('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: ns, verb, resource, group: group || '' } },
      },
    }).then((r) => Boolean(r.status && r.status.allowed));
  }

  const enc = encodeURIComponent;
  const nsPath = (ns, what) => '/api/v1/namespaces/' + enc(ns) + '/' + what;
  const groupPath = (g, ns, what) => g + '/namespaces/' + enc(ns) + '/' + what;

  // ---- formatting ----

  function age(ts) {
    if (!ts) return '';
    const s = Math.max(0, (Date.now() - Date.parse(ts)) / 1000);
    if (s < 120) return Math.floor(s) + 's';
    if (s < 7200) return Math.floor(s / 60) + 'm';
    if (s < 172800) return Math.floor(s / 3600) + 'h';
    return Math.floor(s / 86400) + 'd';
  }

  const SUFFIX = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

  // A Kubernetes quantity ("250m", "1Gi", "1e3") as a number; NaN when it is not one.
  function quantity(q) {
    const m = /^([+-]?[0-9.]+)(e[+-]?[0-9]+|[A-Za-z]{0,2})$/.exec(String(q === undefined ? '' : q).trim());
    if (!m) return NaN;
    const n = Number(m[1]);
    if (m[2].startsWith('e')) return n * 10 ** Number(m[2].slice(1));
    if (!m[2]) return n;
    return m[2] in SUFFIX ? n * SUFFIX[m[2]] : NaN;
  }

  function cores(n) {
    return Number.isFinite(n) ? (n < 1 ? Math.round(n * 1000) + 'm' : +n.toFixed(2) + '') : '?';
  }

  function bytes(n) {
    if (!Number.isFinite(n)) return '?';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return +n.toFixed(1) + ' ' + u[i];
  }

  function table(caption, head, rows, empty) {
    if (!rows.length) return h('p', { class: 'muted' }, empty || 'None.');
    return h('div', { class: 'scroll' },
      h('table', {},
        h('caption', { class: 'sr' }, caption),
        h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
  }

  function cond(obj, type) {
    return ((obj.status && obj.status.conditions) || []).find((c) => c.type === type);
  }

  function poolOf(pod) {
    const sel = (pod.spec && pod.spec.nodeSelector) || {};
    const k = Object.keys(sel).find((x) => x.endsWith('/node-pool'));
    return k ? sel[k] : '';
  }

  function restarts(pod) {
    return ((pod.status && pod.status.containerStatuses) || []).reduce((n, c) => n + (c.restartCount || 0), 0);
  }

  // ---- the page frame ----

  function setNav(ns, page) {
    const nav = $('nav');
    nav.replaceChildren();
    if (!ns) return;
    const items = [['', 'Overview'], ['git', 'Git sync'], ['allowed', 'Allowed'], ['cost', 'Cost']];
    for (const [p, label] of items) {
      nav.append(h('a', { href: '#/t/' + enc(ns) + (p ? '/' + p : ''),
        'aria-current': p === page ? 'page' : null }, label));
    }
  }

  // A page renders only if no newer navigation started meanwhile (live).
  function render(my, title, ...body) {
    if (my !== live) return;
    document.title = title + ' · kubetenant';
    $('view').replaceChildren(h('h1', {}, title), ...body.flat().filter((x) => x));
    status('');
  }

  function showSignedOut(msg) {
    $('user').textContent = '';
    $('logout').hidden = true;
    $('login').hidden = false;
    setNav(null);
    $('view').replaceChildren(h('p', {}, msg),
      h('p', {}, h('button', { type: 'button', class: 'primary', onclick: login }, 'Sign in')));
    status('');
  }

  function showError(e, keep) {
    const alert = h('div', { class: 'alert', role: 'alert' }, String(e.message || e));
    if (keep) $('view').prepend(alert);
    else $('view').replaceChildren(alert);
    status('');
  }

  // ---- pages ----

  async function pageTenants(my) {
    setNav(null);
    status('Loading your tenants…');
    const list = await maybe('/api/v1/namespaces');
    const names = ((list && list.items) || []).map((n) => n.metadata.name).sort();
    // the proxy lists the tenants' namespaces; the API server confirms each one
    const ok = await Promise.all(names.map((ns) => canI(ns, 'list', 'pods').catch(() => false)));
    const mine = names.filter((_, i) => ok[i]);
    if (!mine.length) {
      const groups = (session.claims.groups || []).join(', ') || 'none';
      return render(my, 'No tenant yet',
        h('section', {},
          h('p', {}, 'You are signed in, but none of your groups belongs to a tenant, so there is nothing to show.'),
          h('p', {}, 'Your groups: ', h('strong', {}, groups)),
          h('p', { class: 'muted' }, 'Ask your platform team to add one of these groups to a tenant in the tenants file.')));
    }
    render(my, 'My tenants',
      h('ul', { class: 'cards', 'aria-label': 'Tenants' },
        mine.map((ns) => h('li', {}, h('a', { href: '#/t/' + enc(ns) }, ns)))));
  }

  function readyCell(ready, want) {
    const ok = (ready || 0) >= (want || 0);
    return h('span', { class: ok ? 'ok' : 'bad' }, (ready || 0) + '/' + (want || 0));
  }

  async function pageTenant(my, ns) {
    setNav(ns, '');
    status('Loading ' + ns + '…');
    const apps = (what) => maybe(groupPath('/apis/apps/v1', ns, what));
    const batch = (what) => maybe(groupPath('/apis/batch/v1', ns, what));
    const [deps, sts, dss, jobs, crons, pods, events] = await Promise.all([
      apps('deployments'), apps('statefulsets'), apps('daemonsets'), batch('jobs'), batch('cronjobs'),
      maybe(nsPath(ns, 'pods')), maybe(nsPath(ns, 'events')),
    ]);
    const items = (l) => (l && l.items) || [];
    const wl = [];
    for (const d of items(deps)) wl.push(['Deployment', d.metadata.name, readyCell(d.status && d.status.readyReplicas, d.spec.replicas)]);
    for (const s of items(sts)) wl.push(['StatefulSet', s.metadata.name, readyCell(s.status && s.status.readyReplicas, s.spec.replicas)]);
    for (const d of items(dss)) wl.push(['DaemonSet', d.metadata.name, readyCell(d.status && d.status.numberReady, d.status && d.status.desiredNumberScheduled)]);
    for (const j of items(jobs)) wl.push(['Job', j.metadata.name, readyCell(j.status && j.status.succeeded, j.spec.completions || 1)]);
    for (const c of items(crons)) {
      const last = c.status && c.status.lastScheduleTime;
      wl.push(['CronJob', c.metadata.name, ((c.status && c.status.active) || []).length + ' active' + (last ? ', last ' + age(last) + ' ago' : '')]);
    }
    const podRows = items(pods).map((p) => {
      const phase = (p.status && p.status.phase) || 'Unknown';
      const waiting = ((p.status && p.status.containerStatuses) || []).map((c) => c.state && c.state.waiting && c.state.waiting.reason).find(Boolean);
      return [h('a', { href: '#/t/' + enc(ns) + '/pod/' + enc(p.metadata.name) }, p.metadata.name),
        h('span', { class: phase === 'Running' || phase === 'Succeeded' ? (waiting ? 'bad' : 'ok') : 'bad' }, waiting || phase),
        String(restarts(p)), age(p.metadata.creationTimestamp), poolOf(p)];
    });
    const evs = items(events).slice().sort((a, b) => (a.type === 'Warning' ? 0 : 1) - (b.type === 'Warning' ? 0 : 1) ||
      Date.parse(b.lastTimestamp || b.eventTime || 0) - Date.parse(a.lastTimestamp || a.eventTime || 0)).slice(0, 30);
    render(my, ns,
      h('section', {}, h('h2', {}, 'Workloads'), table('Workloads: ready over desired', ['Kind', 'Name', 'Ready'], wl, 'No workloads.')),
      h('section', {}, h('h2', {}, 'Pods'), table('Pods', ['Name', 'Phase', 'Restarts', 'Age', 'Pool'], podRows, 'No pods.')),
      h('section', {}, h('h2', {}, 'Recent events'),
        table('Events, warnings first', ['Type', 'Object', 'Reason', 'Message', 'Age'], evs.map((e) => [
          h('span', { class: e.type === 'Warning' ? 'warn' : 'muted' }, e.type || ''),
          ((e.involvedObject && e.involvedObject.kind) || '') + '/' + ((e.involvedObject && e.involvedObject.name) || ''),
          e.reason || '', e.message || '', age(e.lastTimestamp || e.eventTime)]), 'No recent events.')));
  }

  function conditionBlock(kind, o) {
    const ready = cond(o, 'Ready') || {};
    const st = o.status || {};
    const applied = kind === 'GitRepository' ? st.artifact && st.artifact.revision : st.lastAppliedRevision;
    const attempted = kind === 'GitRepository' ? applied : st.lastAttemptedRevision;
    const failing = ready.status !== 'True';
    const dl = h('dl', {},
      h('dt', {}, 'Ready'), h('dd', {}, h('span', { class: failing ? 'bad' : 'ok' }, (ready.status || 'Unknown') + (ready.reason ? ' (' + ready.reason + ')' : ''))),
      h('dt', {}, kind === 'GitRepository' ? 'Fetched revision' : 'Applied revision'), h('dd', {}, applied || '—'));
    if (kind !== 'GitRepository') dl.append(h('dt', {}, 'Attempted revision'), h('dd', {}, attempted || '—'));
    if (kind === 'GitRepository' && o.spec) dl.append(h('dt', {}, 'Repository'), h('dd', {}, (o.spec.url || '') + ' ' + ((o.spec.ref && o.spec.ref.branch) || '')));
    dl.append(h('dt', {}, 'Last run'), h('dd', {}, ready.lastTransitionTime ? age(ready.lastTransitionTime) + ' ago (' + ready.lastTransitionTime + ')' : '—'));
    return h('section', {}, h('h2', {}, kind + ' ', h('span', { class: 'muted' }, o.metadata.name)), dl,
      failing || applied !== attempted ? h('div', { class: 'alert', role: 'alert' }, ready.message || 'Not ready.') : h('p', { class: 'muted' }, ready.message || ''));
  }

  async function pageGit(my, ns) {
    setNav(ns, 'git');
    status('Loading the Git sync of ' + ns + '…');
    const [repos, ks] = await Promise.all([maybe(groupPath(FLUX_SOURCE, ns, 'gitrepositories')),
      maybe(groupPath(FLUX_KUSTOMIZE, ns, 'kustomizations'))]);
    const blocks = [...((repos && repos.items) || []).map((o) => conditionBlock('GitRepository', o)),
      ...((ks && ks.items) || []).map((o) => conditionBlock('Kustomization', o))];
    render(my, 'Git sync: ' + ns, blocks.length ? blocks : h('p', { class: 'muted' }, 'This tenant has no Git sync (no Flux GitRepository or Kustomization).'));
  }

  function stateText(st) {
    if (!st) return '';
    if (st.running) return 'Running since ' + (st.running.startedAt || '?');
    if (st.waiting) return 'Waiting: ' + (st.waiting.reason || '') + (st.waiting.message ? ' (' + st.waiting.message + ')' : '');
    if (st.terminated) return 'Terminated: ' + (st.terminated.reason || '') + ' exit ' + st.terminated.exitCode;
    return '';
  }

  function stopFollow() {
    if (follow) follow.abort();
    follow = null;
  }

  async function showLog(ns, pod, container, pre, follows) {
    stopFollow();
    const q = new URLSearchParams({ container, tailLines: '200', timestamps: 'false' });
    if (follows) q.set('follow', 'true');
    const ctl = new AbortController();
    if (follows) follow = ctl;
    pre.textContent = '';
    try {
      const r = await api(nsPath(ns, 'pods/' + enc(pod) + '/log?' + q), { raw: true, signal: ctl.signal });
      const rd = r.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { done, value } = await rd.read();
        if (done) break;
        pre.append(dec.decode(value, { stream: true }));
        if (pre.textContent.length > 2e6) pre.textContent = pre.textContent.slice(-1e6);
        pre.scrollTop = pre.scrollHeight;
      }
    } catch (e) {
      if (e.name !== 'AbortError') pre.append('\n[' + (e.message || e) + ']\n');
    }
  }

  async function pagePod(my, ns, name) {
    setNav(ns, '');
    status('Loading pod ' + name + '…');
    const p = await api(nsPath(ns, 'pods/' + enc(name)));
    const statuses = {};
    for (const c of [...((p.status && p.status.containerStatuses) || []), ...((p.status && p.status.initContainerStatuses) || [])]) statuses[c.name] = c;
    const all = [...((p.spec && p.spec.initContainers) || []), ...((p.spec && p.spec.containers) || [])];
    const rows = all.map((c) => {
      const s = statuses[c.name] || {};
      const last = s.lastState && s.lastState.terminated;
      return [c.name, c.image || '', stateText(s.state), s.ready ? 'yes' : 'no', String(s.restartCount || 0),
        last ? h('span', { class: 'bad' }, (last.reason || '') + ' (exit ' + last.exitCode + ')') : ''];
    });
    const pre = h('pre', { class: 'log', id: 'log', 'aria-label': 'Log', tabindex: '0' });
    const pick = h('select', { id: 'container' }, all.filter((c) => p.spec.containers.includes(c)).map((c) => h('option', { value: c.name }, c.name)));
    const followBtn = h('button', { type: 'button', id: 'follow', 'aria-pressed': 'false' }, 'Follow');
    followBtn.addEventListener('click', () => {
      const on = followBtn.getAttribute('aria-pressed') !== 'true';
      followBtn.setAttribute('aria-pressed', String(on));
      followBtn.textContent = on ? 'Stop following' : 'Follow';
      if (on) showLog(ns, name, pick.value, pre, true);
      else stopFollow();
    });
    pick.addEventListener('change', () => {
      followBtn.setAttribute('aria-pressed', 'false');
      followBtn.textContent = 'Follow';
      showLog(ns, name, pick.value, pre, false);
    });
    render(my, 'Pod ' + name,
      h('section', {}, h('dl', {},
        h('dt', {}, 'Phase'), h('dd', {}, (p.status && p.status.phase) || ''),
        h('dt', {}, 'Node pool'), h('dd', {}, poolOf(p) || '—'),
        h('dt', {}, 'Node'), h('dd', {}, (p.spec && p.spec.nodeName) || '—'),
        h('dt', {}, 'Age'), h('dd', {}, age(p.metadata.creationTimestamp)))),
      h('section', {}, h('h2', {}, 'Containers'), table('Containers', ['Name', 'Image', 'State', 'Ready', 'Restarts', 'Last termination'], rows)),
      h('section', {}, h('h2', {}, 'Log'),
        h('div', { class: 'row' }, h('label', { for: 'container' }, 'Container'), pick, followBtn),
        pre));
    if (my === live && pick.value) showLog(ns, name, pick.value, pre, false);
  }

  async function tenantInfo(ns) {
    const cm = await maybe(nsPath(ns, 'configmaps/' + INFO_CONFIGMAP));
    return (cm && cm.data) || null;
  }

  const lines = (s) => String(s || '').split('\n').filter(Boolean);

  async function pageAllowed(my, ns) {
    setNav(ns, 'allowed');
    status('Loading what ' + ns + ' is allowed…');
    const [info, quotas] = await Promise.all([tenantInfo(ns), maybe(nsPath(ns, 'resourcequotas'))]);
    const i = info || {};
    const list = (v) => (lines(v).length ? h('ul', {}, lines(v).map((x) => h('li', {}, x))) : '—');
    const qrows = [];
    for (const q of (quotas && quotas.items) || []) {
      const hard = (q.status && q.status.hard) || (q.spec && q.spec.hard) || {};
      const used = (q.status && q.status.used) || {};
      for (const k of Object.keys(hard).sort()) {
        const u = quantity(used[k] || '0');
        const max = quantity(hard[k]);
        const full = Number.isFinite(u) && Number.isFinite(max) && u >= max;
        qrows.push([k, h('span', { class: full ? 'bad' : '' }, String(used[k] || '0')), String(hard[k]),
          h('meter', { min: '0', max: String(max || 1), value: String(u || 0), 'aria-label': k + ' used' })]);
      }
    }
    render(my, 'Allowed: ' + ns,
      info ? null : h('p', { class: 'muted' }, 'The platform publishes no tenant details here (ConfigMap ' + INFO_CONFIGMAP + ').'),
      h('section', {}, h('dl', {},
        h('dt', {}, 'Node pool'), h('dd', {}, i.nodePool || '—'),
        h('dt', {}, 'Cost code'), h('dd', {}, i.costCode || '—'),
        h('dt', {}, 'Pod Security level'), h('dd', {}, i.podSecurity || '—'),
        h('dt', {}, 'Service types'), h('dd', {}, list(i.serviceTypes)),
        h('dt', {}, 'Hostnames'), h('dd', {}, list(i.hostnames)))),
      h('section', {}, h('h2', {}, 'Quota'), table('Quota: used against hard limits', ['Resource', 'Used', 'Hard', ''], qrows, 'No quota.')));
  }

  function requests(pod) {
    let cpu = 0;
    let mem = 0;
    for (const c of (pod.spec && pod.spec.containers) || []) {
      const r = (c.resources && c.resources.requests) || {};
      cpu += quantity(r.cpu || '0') || 0;
      mem += quantity(r.memory || '0') || 0;
    }
    return { cpu, mem };
  }

  async function pageCost(my, ns) {
    setNav(ns, 'cost');
    status('Loading the cost of ' + ns + '…');
    const [info, pods, nodes] = await Promise.all([tenantInfo(ns), maybe(nsPath(ns, 'pods')), maybe('/api/v1/nodes')]);
    const i = info || {};
    let prices = {};
    try { prices = JSON.parse(i.prices || '{}') || {}; } catch (e) { prices = {}; }
    const pools = {};
    for (const p of (pods && pods.items) || []) {
      const ph = p.status && p.status.phase;
      if (ph === 'Succeeded' || ph === 'Failed') continue;
      const pool = poolOf(p) || i.nodePool || '?';
      const r = requests(p);
      pools[pool] = pools[pool] || { cpu: 0, mem: 0, capCpu: 0, capMem: 0, price: 0, priced: true, nodes: 0 };
      pools[pool].cpu += r.cpu;
      pools[pool].mem += r.mem;
    }
    for (const n of (nodes && nodes.items) || []) {
      const labels = n.metadata.labels || {};
      const k = Object.keys(labels).find((x) => x.endsWith('/node-pool'));
      const pool = k && pools[labels[k]];
      if (!pool) continue;
      const a = (n.status && n.status.allocatable) || {};
      pool.capCpu += quantity(a.cpu) || 0;
      pool.capMem += quantity(a.memory) || 0;
      pool.nodes++;
      const price = Number(prices[labels['node.kubernetes.io/instance-type']]);
      if (Number.isFinite(price)) pool.price += price;
      else pool.priced = false;
    }
    let total = 0;
    let anyPrice = false;
    const rows = Object.keys(pools).sort().map((name) => {
      const p = pools[name];
      const share = Math.max(p.capCpu ? p.cpu / p.capCpu : 0, p.capMem ? p.mem / p.capMem : 0);
      const priced = p.nodes > 0 && p.priced && Object.keys(prices).length > 0;
      const monthly = priced ? share * p.price : NaN;
      if (priced) { total += monthly; anyPrice = true; }
      const pct = (a, b) => (b ? ' of ' + (b === p.capCpu ? cores(b) : bytes(b)) + ' (' + Math.round((a / b) * 100) + '%)' : '');
      return [name, cores(p.cpu) + pct(p.cpu, p.capCpu), bytes(p.mem) + pct(p.mem, p.capMem),
        p.nodes ? h('meter', { min: '0', max: '1', value: String(Math.min(share, 1)), 'aria-label': 'share of pool ' + name }, Math.round(share * 100) + '%') : 'capacity not visible',
        priced ? monthly.toFixed(2) + ' / month' : '—'];
    });
    render(my, 'Cost: ' + ns,
      h('section', {}, h('dl', {},
        h('dt', {}, 'Cost code'), h('dd', {}, i.costCode || '—'),
        h('dt', {}, 'Estimated monthly'), h('dd', { id: 'monthly' }, anyPrice ? total.toFixed(2) : 'no prices configured'))),
      h('section', {}, h('h2', {}, 'Requests per pool'),
        table('CPU and memory requested over the pool\'s capacity', ['Pool', 'CPU requested', 'Memory requested', 'Share', 'Estimate'], rows, 'No running pods.')),
      h('p', { class: 'muted' }, 'The share is the larger of the CPU and memory shares of the pool; the estimate is that share of the pool\'s nodes\' monthly prices.'));
  }

  // ---- routing: #/, #/t/NS, #/t/NS/git|allowed|cost, #/t/NS/pod/NAME ----

  async function route() {
    const my = ++live;
    stopFollow();
    if (!session) return showSignedOut('Sign in to see your tenants.');
    const parts = location.hash.replace(/^#\/?/, '').split('/').map((s) => {
      try { return decodeURIComponent(s); } catch (e) { return ''; }
    });
    try {
      if (parts[0] !== 't' || !parts[1]) return await pageTenants(my);
      const ns = parts[1];
      if (parts[2] === 'git') return await pageGit(my, ns);
      if (parts[2] === 'allowed') return await pageAllowed(my, ns);
      if (parts[2] === 'cost') return await pageCost(my, ns);
      if (parts[2] === 'pod' && parts[3]) return await pagePod(my, ns, parts[3]);
      return await pageTenant(my, ns);
    } catch (e) {
      if (e.code !== 401 && my === live) showError(e);
    }
    return undefined;
  }

  async function start() {
    $('login').addEventListener('click', login);
    $('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', () => {
      route();
      $('main').focus();
    });
    try {
      cfg = await (await fetch('/ui/config.json', { credentials: 'omit' })).json();
      disco = await discover();
      const params = new URLSearchParams(location.search);
      if (params.has('code') || params.has('error')) await finishLogin(params);
    } catch (e) {
      history.replaceState(null, '', REDIRECT + location.hash);
      showSignedOut('');
      return showError(e, true); // and the sign-in button stays
    }
    if (session) {
      const c = session.claims;
      $('user').textContent = c.email || c.preferred_username || c.name || c.sub || '';
      $('login').hidden = true;
      $('logout').hidden = false;
    }
    return route();
  }

  start();
})();
