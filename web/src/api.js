// The daemon's API from the browser: JSON requests with the session token,
// errors turned into ApiError (the API's {"error":{"code","message"}}), and
// a WebSocket that reconnects and re-subscribes.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'approvald.token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let onUnauthorized = () => {};

export function setToken(t) {
  token = t || '';
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}
export function getToken() {
  return token;
}
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function errorOf(res) {
  let code = 'http_' + res.status;
  let message = res.statusText || 'HTTP ' + res.status;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (e) {
    // Not JSON (a proxy's page): keep the status line.
  }
  return new ApiError(res.status, code, message);
}

// fetch() with the token; resolves to the Response, throws ApiError.
export async function raw(method, path, { body, headers = {}, contentType } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  if (contentType) h['Content-Type'] = contentType;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body });
  } catch (e) {
    throw new ApiError(0, 'network', e.message || String(e));
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && path !== '/api/v1/auth/login') onUnauthorized(err);
    throw err;
  }
  return res;
}

export async function api(method, path, body, headers) {
  const res = await raw(method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
    contentType: body === undefined ? undefined : 'application/json',
  });
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

export const get = (path) => api('GET', path);
export const post = (path, body, headers) => api('POST', path, body, headers);

export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

// Uploads a File under its name; resolves to {hash, size, name}.
export async function uploadAttachment(file) {
  const name = file.name ? '?name=' + encodeURIComponent(file.name) : '';
  const res = await raw('POST', '/api/v1/attachments' + name, {
    body: file,
    contentType: 'application/octet-stream',
  });
  return res.json();
}

// Fetches a protected resource and hands it to the browser as a download.
export async function download(path, filename) {
  const res = await raw('GET', path);
  const blob = await res.blob();
  saveBlob(blob, filename);
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// One WebSocket per session. listeners get every pushed message; the
// subscriptions are replayed after a reconnect.
export class Live {
  constructor() {
    this.listeners = new Set();
    this.subs = new Map(); // instance id -> count
    this.ws = null;
    this.closed = false;
    this.retry = 500;
    this.state = 'connecting';
    this.onState = () => {};
  }
  start() {
    this.closed = false;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The token rides in the subprotocol list, not the URL, so it stays out
    // of access logs: Sec-WebSocket-Protocol: approvald, TOKEN.
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws`, ['approvald', token]);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      for (const id of this.subs.keys()) ws.send(JSON.stringify({ subscribe: id }));
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (msg.type === 'hello') this.setState('live');
      for (const l of this.listeners) l(msg);
    };
    ws.onclose = () => {
      this.setState('offline');
      if (this.closed) return;
      setTimeout(() => !this.closed && this.start(), this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    };
  }
  setState(s) {
    this.state = s;
    this.onState(s);
  }
  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
    this.ws = null;
  }
  listen(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  subscribe(id) {
    this.subs.set(id, (this.subs.get(id) || 0) + 1);
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({ subscribe: id }));
    return () => {
      const n = (this.subs.get(id) || 1) - 1;
      if (n > 0) {
        this.subs.set(id, n);
        return;
      }
      this.subs.delete(id);
      if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({ unsubscribe: id }));
    };
  }
}
