// The app shell: login, the header (navigation, language switch, live
// indicator), hash routes, and the session-wide data (who I am, the
// organisation, the workflows, the WebSocket).
//   #/tasks/pending|done|cc|mine   #/start   #/start/<workflow>
//   #/i/<instance id>              #/audit   #/reports (auditors and the office)
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, Live, get, getToken, post, setToken, setUnauthorizedHandler } from './api.js';
import { getLang, pick, setLang, t } from './i18n.js';
import { html, ErrorBox, Loading, Toasts } from './ui.js';
import { TasksPage } from './pages/tasks.js';
import { StartForm, StartList } from './pages/start.js';
import { InstancePage } from './pages/instance.js';
import { AuditPage } from './pages/audit.js';
import { ReportsPage } from './pages/reports.js';

function useHash() {
  const [hash, setHash] = useState(location.hash || '');
  useEffect(() => {
    const on = () => setHash(location.hash || '');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Login({ onLogin }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post('/api/v1/auth/login', { username: username.trim(), password });
      setToken(r.token);
      onLogin(r.user);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login" id="main">
    <form class="panel login-form" onSubmit=${submit} aria-labelledby="login-h">
      <h1 id="login-h">${t('app')}</h1>
      <label>${t('username')}<input name="username" autocomplete="username" autofocus required
        value=${username} onInput=${(e) => setUsername(e.target.value)} /></label>
      <label>${t('password')}<input name="password" type="password" autocomplete="current-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
      <${ErrorBox} error=${error} />
      <button type="submit" class="primary" disabled=${busy} data-login>${t('login')}</button>
      <p class="muted small">${t('loginHint')}</p>
    </form>
  </main>`;
}

function LangSwitch({ onChange }) {
  return html`<button type="button" class="lang" data-lang-switch
    onClick=${() => { setLang(getLang() === 'zh' ? 'en' : 'zh'); onChange(); }}>${t('lang')}</button>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [booting, setBooting] = useState(!!getToken());
  const [, setLangTick] = useState(0);
  const [workflows, setWorkflows] = useState(null);
  const [org, setOrg] = useState(null);
  const [liveState, setLiveState] = useState('connecting');
  const [bootError, setBootError] = useState(null);
  const hash = useHash();
  const live = useMemo(() => (me ? new Live() : null), [me && me.username]);
  const wfCache = useMemo(() => new Map(), [me && me.username]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken('');
      setMe(null);
    });
    if (!getToken()) return;
    get('/api/v1/me').then(
      (m) => { setMe(m); setBooting(false); },
      (e) => { if (!(e instanceof ApiError && e.status === 401)) setBootError(e); setToken(''); setBooting(false); },
    );
  }, []);

  useEffect(() => {
    if (!live) return undefined;
    live.onState = setLiveState;
    live.start();
    return () => live.stop();
  }, [live]);

  // Full definitions (form, nodes, diagram) of every workflow, once per login.
  const getWorkflow = (id, version) => {
    const k = id + '@' + (version || '');
    if (!wfCache.has(k)) wfCache.set(k, get('/api/v1/workflows/' + encodeURIComponent(id) + (version ? '?version=' + version : '')));
    return wfCache.get(k);
  };
  useEffect(() => {
    if (!me) return;
    get('/api/v1/workflows')
      .then((list) => Promise.all(list.items.map((w) => getWorkflow(w.id))))
      .then(setWorkflows, setBootError);
    get('/api/v1/org').then(setOrg, () => {});
  }, [me && me.username]);

  if (booting) return html`<${Loading} />`;
  if (!me) {
    return html`<div class="topbar"><span class="brand">${t('app')}</span><${LangSwitch} onChange=${() => setLangTick((x) => x + 1)} /></div>
      <${ErrorBox} error=${bootError} />
      <${Login} onLogin=${(u) => { setMe(u); if (!location.hash || location.hash === '#/login') location.hash = defaultRoute(u); }} />
      <${Toasts} />`;
  }
  async function logout() {
    try {
      await post('/api/v1/auth/logout');
    } catch (e) {
      // The session may already be gone; log out locally anyway.
    }
    setToken('');
    setMe(null);
    location.hash = '';
  }

  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const isAuditor = me.role === 'auditor' || me.role === 'admin';
  let page;
  let nav = parts[0] || '';
  if (parts.length === 0) {
    location.replace('#' + defaultRoute(me).slice(1));
    page = null;
  } else if (parts[0] === 'tasks') {
    page = html`<${TasksPage} kind=${parts[1] || 'pending'} live=${live} workflows=${workflows} />`;
  } else if (parts[0] === 'start' && parts[1]) {
    const wf = workflows && workflows.find((w) => w.id === decodeURIComponent(parts[1]));
    page = !workflows ? html`<${Loading} />` : wf ? html`<${StartForm} key=${wf.id} wf=${wf} org=${org} me=${me} />`
      : html`<p role="alert">${t('notFound')}</p>`;
  } else if (parts[0] === 'start') {
    page = html`<${StartList} workflows=${workflows} />`;
  } else if (parts[0] === 'i' && parts[1]) {
    page = html`<${InstancePage} key=${parts[1]} id=${parts[1]} live=${live} getWorkflow=${getWorkflow} org=${org} me=${me} />`;
  } else if (parts[0] === 'audit') {
    page = html`<${AuditPage} />`;
  } else if (parts[0] === 'reports') {
    page = html`<${ReportsPage} me=${me} />`;
  } else {
    page = html`<p role="alert">${t('notFound')} · <a href="#/tasks/pending">${t('back')}</a></p>`;
  }

  const link = (href, key, label) => html`<a href=${href} class=${nav === key ? 'active' : ''}
    aria-current=${nav === key ? 'page' : undefined}>${label}</a>`;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip</a>
    <header class="topbar">
      <span class="brand">${t('app')}</span>
      <nav class="mainnav" aria-label="main">
        ${me.role !== 'auditor' ? link('#/tasks/pending', 'tasks', t('pending')) : null}
        ${me.role !== 'auditor' ? link('#/start', 'start', t('start')) : null}
        ${isAuditor ? link('#/audit', 'audit', t('audit')) : null}
        ${me.reports && me.reports.length ? link('#/reports', 'reports', t('reports')) : null}
      </nav>
      <span class=${'live live-' + liveState} data-live=${liveState} title="WebSocket">● ${t(liveState)}</span>
      <span class="who" data-user=${me.username}>${me.person ? pick(me.person, 'name') : me.username}</span>
      <${LangSwitch} onChange=${() => setLangTick((x) => x + 1)} />
      <button type="button" onClick=${logout} data-logout>${t('logout')}</button>
    </header>
    <main id="main" tabindex="-1">
      <${ErrorBox} error=${bootError} />
      ${page}
    </main>
    <${Toasts} />`;
}

function defaultRoute(me) {
  return me.role === 'auditor' ? '#/audit' : '#/tasks/pending';
}

render(html`<${App} />`, document.getElementById('app'));
