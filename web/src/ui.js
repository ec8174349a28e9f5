// Shared pieces: the htm template tag, error and status display, toasts.
import { h } from 'preact';
import { useEffect, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { t } from './i18n.js';

export const html = htm.bind(h);

// An API error (or any Error) as a message people can read; role=alert so
// screen readers announce it.
export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  const code = error.code && error.code !== 'network' ? ` (${error.code})` : '';
  return html`<div class="error" role="alert" data-code=${error.code || ''}>
    <span>${error.message || String(error)}${code}</span>
    ${onRetry && html` <button type="button" class="link" onClick=${onRetry}>${t('retry')}</button>`}
  </div>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${'badge status-' + status}>${t(status)}</span>`;
}

// Loads data with `fn` whenever `deps` change; {data, error, loading, reload}.
export function useAsync(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((x) => x + 1), []);
  return { ...state, reload };
}

// Toasts: a tiny global queue rendered by <Toasts/> (aria-live).
const toastListeners = new Set();
let toastId = 0;
export function toast(text, kind = 'info') {
  const item = { id: ++toastId, text, kind };
  for (const l of toastListeners) l(item);
}
export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const l = (item) => {
      setItems((xs) => [...xs.slice(-4), item]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== item.id)), 6000);
    };
    toastListeners.add(l);
    return () => toastListeners.delete(l);
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map((i) => html`<div key=${i.id} class=${'toast ' + i.kind}>${i.text}</div>`)}
  </div>`;
}

export function Loading() {
  return html`<p class="muted" aria-busy="true">${t('loading')}</p>`;
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
