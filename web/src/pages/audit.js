// The auditor's view: search the trail by instance, person, action and
// period; verify any entry in the browser (its leaf hash and RFC 9162
// inclusion proof recomputed with WebCrypto SHA-256 against the signed
// checkpoint, whose Ed25519 signature is checked too); download the results
// as an export bundle or CSV, and the reports the daemon offers.
import { useEffect, useState } from 'preact/hooks';
import { download, get, qs, saveBlob } from '../api.js';
import { t } from '../i18n.js';
import { verifyEntry } from '../merkle.js';
import { html, ErrorBox, Loading } from '../ui.js';

function b64ToBytes(b64) {
  const bin = atob(b64.replace(/\s+/g, ''));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// Checks the checkpoint note's Ed25519 signature with the published key and
// that the note names the same size and root. Resolves to true/false, or
// null when the browser has no Ed25519 in WebCrypto.
export async function verifyCheckpoint(cp) {
  if (!cp.note || !cp.public_key_pem || !cp.signature) return false;
  const body = cp.note.split('\n\n')[0] + '\n';
  const lines = body.split('\n');
  const rootB64 = btoa(String.fromCharCode(...cp.root.match(/../g).map((x) => parseInt(x, 16))));
  if (lines[1] !== String(cp.size) || lines[2] !== rootB64) return false;
  const der = b64ToBytes(cp.public_key_pem.replace(/-----[^-]+-----/g, ''));
  let key;
  try {
    key = await crypto.subtle.importKey('spki', der, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return null;
  }
  return crypto.subtle.verify({ name: 'Ed25519' }, key, b64ToBytes(cp.signature), new TextEncoder().encode(body));
}

function csvCell(v) {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

// GET /api/v1/reports/{name}?format=csv (auditors and the office).
const REPORTS = [
  { name: 'sanzhong-ledger', label: 'ledger' },
  { name: 'rectification', label: 'rectification' },
  { name: 'procurement', label: 'procurement' },
];

export function AuditPage() {
  const [q, setQ] = useState({ instance: '', actor: '', action: '', from: '', to: '' });
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [cp, setCp] = useState(null);
  const [cpOk, setCpOk] = useState(undefined);
  const [results, setResults] = useState({});

  async function loadCheckpoint() {
    try {
      const c = await get('/api/v1/audit/checkpoint');
      setCp(c);
      setCpOk(await verifyCheckpoint(c));
      return c;
    } catch (e) {
      setError(e);
      return null;
    }
  }
  useEffect(() => {
    loadCheckpoint();
  }, []);

  async function search(ev, after) {
    if (ev) ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const page = await get('/api/v1/audit' + qs({ ...q, after, limit: 100 }));
      setRows(after !== undefined ? [...(rows || []), ...page.items] : page.items);
      setNext(page.next_after);
      if (after === undefined) setResults({});
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function verify(entry) {
    setResults((r) => ({ ...r, [entry.index]: { busy: true } }));
    try {
      let c = cp;
      if (!c || c.size <= entry.index) c = await loadCheckpoint();
      if (!c || c.size <= entry.index) throw new Error('no signed checkpoint covers entry ' + entry.index + ' yet');
      const proof = await get('/api/v1/audit/proof/inclusion' + qs({ index: entry.index, size: c.size }));
      const res = await verifyEntry(entry, proof, c);
      setResults((r) => ({ ...r, [entry.index]: { ...res, proof, checkpoint: c } }));
    } catch (e) {
      setResults((r) => ({ ...r, [entry.index]: { ok: false, error: e } }));
    }
  }

  function exportBundle() {
    const bundle = {
      format: 'approvald-browser-export/1',
      query: q,
      checkpoint: cp,
      entries: rows || [],
      proofs: Object.fromEntries(Object.entries(results).filter(([, r]) => r.proof).map(([i, r]) => [i, r.proof])),
    };
    saveBlob(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/json' }), 'approvald-audit-export.json');
  }
  function exportCsv() {
    const head = ['index', 'at_local', 'kind', 'type', 'actor', 'instance', 'version', 'leaf_hash'];
    const lines = [head.join(',')].concat((rows || []).map((r) => head.map((k) => csvCell(r[k])).join(',')));
    saveBlob(new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv' }), 'approvald-audit.csv');
  }
  async function report(name) {
    setError(null);
    try {
      await download(`/api/v1/reports/${name}${qs({ format: 'csv', from: q.from, to: q.to })}`, name + '.csv');
    } catch (e) {
      setError(e);
    }
  }

  const field = (k, type = 'text', label = t(k)) => html`<label>${label}
    <input type=${type} name=${k} value=${q[k]} onInput=${(e) => setQ({ ...q, [k]: e.target.value })} /></label>`;

  return html`<section aria-labelledby="audit-h" class="audit">
    <h1 id="audit-h">${t('auditSearch')}</h1>
    <${Checkpoint} cp=${cp} ok=${cpOk} />
    <form class="search" onSubmit=${(e) => search(e)}>
      ${field('instance', 'text', t('instance') + ' #')} ${field('actor')} ${field('action')}
      ${field('from', 'date')} ${field('to', 'date')}
      <button type="submit" class="primary" disabled=${busy} data-search>${t('search')}</button>
    </form>
    <div class="toolbar">
      <button type="button" onClick=${exportBundle} disabled=${!rows}>${t('exportBundle')}</button>
      <button type="button" onClick=${exportCsv} disabled=${!rows}>${t('exportCsv')}</button>
      ${REPORTS.map((r) => html`<button type="button" key=${r.name} onClick=${() => report(r.name)} data-report=${r.name}>${t(r.label)} (CSV)</button>`)}
    </div>
    <${ErrorBox} error=${error} />
    ${busy && !rows ? html`<${Loading} />` : null}
    ${rows && rows.length === 0 ? html`<p class="muted">${t('empty')}</p>` : null}
    ${rows && rows.length > 0 && html`<div class="table-wrap"><table class="audit-table">
      <thead><tr><th scope="col">${t('index')}</th><th scope="col">${t('time')}</th><th scope="col">${t('action')}</th>
        <th scope="col">${t('actor')}</th><th scope="col">${t('instance')}</th><th scope="col">${t('verify')}</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr key=${r.index} data-index=${r.index}>
        <td>${r.index}</td><td>${r.at_local}</td><td>${r.type}</td><td>${r.actor}</td>
        <td>${r.instance ? html`<a href=${'#/i/' + r.instance}>#${r.instance}</a>` : ''}</td>
        <td><button type="button" onClick=${() => verify(r)} data-verify=${r.index}>${t('verify')}</button>
          <${VerifyResult} res=${results[r.index]} /></td></tr>`)}</tbody>
    </table></div>`}
    ${next !== null && next !== undefined && rows && html`<button type="button" onClick=${() => search(null, next)}>${t('more')}</button>`}
  </section>`;
}

function Checkpoint({ cp, ok }) {
  if (!cp) return null;
  return html`<div class="panel checkpoint" data-checkpoint=${cp.size}>
    <strong>${t('checkpoint')}</strong> · ${cp.origin} · ${t('size')} ${cp.size} · ${cp.at_local}
    <div class="hash">${t('root')}: <code>${cp.root}</code></div>
    <div data-signature=${ok === true ? 'ok' : ok === false ? 'bad' : 'unknown'}>
      ${ok === true ? html`<span class="ok">✓ ${t('signatureOk')}</span>` : ok === false ? html`<span class="bad">✗ ${t('signatureBad')}</span>` : ''}
      ${cp.verifier_key ? html` <small class="muted"><code>${cp.verifier_key}</code></small>` : null}</div>
  </div>`;
}

function VerifyResult({ res }) {
  if (!res) return null;
  if (res.busy) return html`<span class="muted"> …</span>`;
  if (res.error) return html`<span class="bad" role="alert" data-verified="false"> ✗ ${res.error.message}</span>`;
  return res.ok
    ? html`<span class="ok" data-verified="true"> ✓ ${t('verified')} (${t('size')} ${res.proof.size}, ${res.proof.proof.length} hashes)</span>`
    : html`<span class="bad" role="alert" data-verified="false"> ✗ ${t('notVerified')}: ${res.reason}</span>`;
}
