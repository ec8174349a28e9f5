// 发起: pick a workflow, fill the form generated from its typed fields, attach
// files, submit once (an Idempotency-Key per form, the button locked while
// the request is in flight, so a double click never makes two requests).
import { useRef, useState } from 'preact/hooks';
import { post, uploadAttachment } from '../api.js';
import { t, pick } from '../i18n.js';
import { fenToYuan, yuanToFen } from '../money.js';
import { html, ErrorBox, Loading, newKey, toast } from '../ui.js';

export function StartList({ workflows }) {
  if (!workflows) return html`<${Loading} />`;
  return html`<section aria-labelledby="start-h">
    <h1 id="start-h">${t('chooseWorkflow')}</h1>
    <ul class="cards">
      ${workflows.map(
        (w) => html`<li class="card" key=${w.id}><a class="card-link" href=${'#/start/' + w.id} data-workflow=${w.id}>
          <strong>${pick(w)}</strong><div class="muted">${w.id} · v${w.version}</div></a></li>`,
      )}
    </ul>
  </section>`;
}

// Fields that a later step fills in (task fields), not the submitter.
function taskFields(wf) {
  const out = new Set();
  for (const n of (wf.diagram && wf.diagram.nodes) || []) {
    for (const d of n.details || []) {
      const m = /^fields:\s*(.+)$/.exec(d);
      if (m) m[1].split(',').forEach((f) => out.add(f.trim()));
    }
  }
  return out;
}

function baseType(type) {
  return String(type).split(/[<{]/)[0];
}

function emptyValue(field) {
  const b = baseType(field.type);
  if (b === 'list') return [];
  if (b === 'record') return {};
  if (b === 'bool') return false;
  return '';
}

// Validates one value; returns an error string or ''.
function check(field, v) {
  const b = baseType(field.type);
  const blank = v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0);
  if (blank) return field.required ? t('required') : '';
  if (b === 'money') {
    const fen = yuanToFen(v);
    if (fen === null) return t('invalidMoney');
    if ((field.min !== undefined && fen < field.min) || (field.max !== undefined && fen > field.max)) {
      return t('outOfRange') + ` (${field.min !== undefined ? fenToYuan(field.min) : ''} – ${field.max !== undefined ? fenToYuan(field.max) : ''})`;
    }
  }
  if (b === 'int') {
    if (!/^-?\d+$/.test(String(v).trim())) return t('invalidInt');
    const n = Number(v);
    if ((field.min !== undefined && n < field.min) || (field.max !== undefined && n > field.max)) return t('outOfRange');
  }
  if (b === 'text' && field.max_length && [...String(v)].length > field.max_length) {
    return t('tooLong', { n: field.max_length });
  }
  if (b === 'list' && field.min_items && v.length < field.min_items) return t('atLeastItems', { n: field.min_items });
  return '';
}

// Form value -> API value (money in fen, ints as numbers, empty dropped).
function toApi(field, v) {
  const b = baseType(field.type);
  if (v === '' || v === null || v === undefined) return undefined;
  if (b === 'money') return yuanToFen(v);
  if (b === 'int') return Number(v);
  if (b === 'list') {
    const el = field.element || {};
    const out = v.map((x) => toApi({ ...el, name: '' }, x)).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (b === 'record') {
    const out = {};
    for (const f of field.fields || []) {
      const x = toApi(f, v[f.name]);
      if (x !== undefined) out[f.name] = x;
    }
    return out;
  }
  return v;
}

// Collects errors for the whole form: {path: message}.
function validate(fields, values, prefix = '', errors = {}) {
  for (const f of fields) {
    const v = values[f.name];
    const e = check(f, v);
    if (e) errors[prefix + f.name] = e;
    const b = baseType(f.type);
    if (b === 'list' && f.element && baseType(f.element.type) === 'record' && Array.isArray(v)) {
      v.forEach((row, i) => validate(f.element.fields || [], row, `${prefix}${f.name}.${i}.`, errors));
    }
  }
  return errors;
}

export function StartForm({ wf, org, me }) {
  const fields = wf.form.filter((f) => !taskFields(wf).has(f.name));
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.name, emptyValue(f)])));
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newKey());
  const inflight = useRef(false);

  const set = (name, v) => setValues((vs) => ({ ...vs, [name]: v }));

  async function submit(ev) {
    ev.preventDefault();
    if (inflight.current) return; // a second click while the first is in flight
    const errs = validate(fields, values);
    setErrors(errs);
    if (Object.keys(errs).length) {
      setError({ message: t('required') + ' / ' + Object.values(errs)[0], code: 'invalid_form' });
      const first = document.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    const data = {};
    for (const f of fields) {
      const v = toApi(f, values[f.name]);
      if (v !== undefined) data[f.name] = v;
    }
    inflight.current = true;
    setBusy(true);
    setError(null);
    try {
      const inst = await post('/api/v1/instances', { workflow: wf.id, data }, { 'Idempotency-Key': key.current });
      key.current = newKey();
      toast(t('submitted', { id: inst.id }), 'ok');
      location.hash = '#/i/' + inst.id;
    } catch (e) {
      setError(e);
    } finally {
      inflight.current = false;
      setBusy(false);
    }
  }

  return html`<section aria-labelledby="form-h">
    <h1 id="form-h">${pick(wf)}</h1>
    <form class="form" onSubmit=${submit} novalidate data-workflow=${wf.id}>
      ${fields.map(
        (f) => html`<${Field} key=${f.name} field=${f} path=${f.name} value=${values[f.name]}
          error=${errors[f.name]} errors=${errors} org=${org} onChange=${(v) => set(f.name, v)} />`,
      )}
      <${ErrorBox} error=${error} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy} aria-busy=${busy} data-submit>
          ${busy ? t('submitting') : t('submit')}</button>
      </div>
    </form>
  </section>`;
}

function Field({ field, path, value, error, errors, org, onChange, compact }) {
  const id = 'f-' + path.replace(/\./g, '-');
  const b = baseType(field.type);
  const label = pick(field, 'label') || field.name;
  const describedBy = error ? id + '-err' : field.help ? id + '-help' : undefined;
  let input;
  const common = { id, name: path, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': describedBy,
    'aria-required': field.required ? 'true' : undefined };
  if (b === 'text' && field.max_length && field.max_length > 200) {
    input = html`<textarea ...${common} rows="3" value=${value} onInput=${(e) => onChange(e.target.value)} />`;
  } else if (b === 'text') {
    input = html`<input ...${common} type="text" value=${value} onInput=${(e) => onChange(e.target.value)} />`;
  } else if (b === 'money') {
    input = html`<div class="money-input"><span aria-hidden="true">¥</span>
      <input ...${common} type="text" inputmode="decimal" placeholder="0.00" value=${value}
        onInput=${(e) => onChange(e.target.value)}
        onBlur=${(e) => { const f = yuanToFen(e.target.value); if (f !== null) onChange(fenToYuan(f)); }} />
      <span class="muted">${t('amount') === '金额' ? '元' : 'yuan'}</span></div>`;
  } else if (b === 'int') {
    input = html`<input ...${common} type="text" inputmode="numeric" value=${value} onInput=${(e) => onChange(e.target.value)} />`;
  } else if (b === 'date') {
    input = html`<input ...${common} type="date" value=${value} onInput=${(e) => onChange(e.target.value)} />`;
  } else if (b === 'bool') {
    input = html`<input ...${common} type="checkbox" checked=${!!value} onChange=${(e) => onChange(e.target.checked)} />`;
  } else if (b === 'enum') {
    input = html`<select ...${common} value=${value} onChange=${(e) => onChange(e.target.value)}>
      <option value="">—</option>
      ${(field.options || []).map((o, i) => html`<option value=${o}>${optionLabel(field, o, i)}</option>`)}
    </select>`;
  } else if (b === 'dept' || b === 'person') {
    const items = org ? (b === 'dept' ? org.departments : org.people) : [];
    input = html`<select ...${common} value=${value} onChange=${(e) => onChange(e.target.value)}>
      <option value="">—</option>
      ${items.map((x) => html`<option value=${x.id}>${pick(x, 'name')}</option>`)}
    </select>`;
  } else if (b === 'attachment') {
    input = html`<${AttachmentInput} common=${common} value=${value} onChange=${onChange} />`;
  } else if (b === 'list' && field.element && baseType(field.element.type) === 'attachment') {
    input = html`<${AttachmentInput} common=${common} multiple value=${value} onChange=${onChange} />`;
  } else if (b === 'list' && field.element && baseType(field.element.type) === 'record') {
    input = html`<${RecordList} field=${field} path=${path} value=${value} errors=${errors} org=${org} onChange=${onChange} />`;
  } else {
    input = html`<p class="muted">${t('fieldTypeUnsupported', { type: field.type })}</p>`;
  }
  return html`<div class=${'field' + (compact ? ' compact' : '') + (error ? ' has-error' : '')} data-field=${path}>
    <label for=${id}>${label}${field.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>
    ${input}
    ${field.help && html`<small id=${id + '-help'} class="muted">${field.help}</small>`}
    ${error && html`<small id=${id + '-err'} class="field-error">${error}</small>`}
  </div>`;
}

function optionLabel(field, o, i) {
  const zh = field.option_labels && field.option_labels[i];
  const en = field.option_labels_en && field.option_labels_en[i];
  return pick({ l: zh || o, l_en: en || o }, 'l');
}

function RecordList({ field, path, value, errors, org, onChange }) {
  const rows = value || [];
  const sub = field.element.fields || [];
  const setRow = (i, name, v) => onChange(rows.map((r, j) => (j === i ? { ...r, [name]: v } : r)));
  return html`<div class="record-list">
    ${rows.map(
      (row, i) => html`<fieldset class="record" key=${i}>
        <legend>${pick(field, 'label')} ${i + 1}</legend>
        ${sub.map(
          (f) => html`<${Field} compact field=${f} path=${`${path}.${i}.${f.name}`} value=${row[f.name] ?? ''}
            error=${errors[`${path}.${i}.${f.name}`]} errors=${errors} org=${org} onChange=${(v) => setRow(i, f.name, v)} />`,
        )}
        <button type="button" class="link" onClick=${() => onChange(rows.filter((_, j) => j !== i))}>${t('removeRow')}</button>
      </fieldset>`,
    )}
    <button type="button" onClick=${() => onChange([...rows, {}])} data-add-row=${path}>+ ${t('addRow')}</button>
  </div>`;
}

function AttachmentInput({ common, multiple, value, onChange }) {
  const [state, setState] = useState({ busy: false, error: null, names: {} });
  async function pickFiles(e) {
    const files = Array.from(e.target.files || []);
    if (!files.length) return;
    setState((s) => ({ ...s, busy: true, error: null }));
    try {
      const names = {};
      const hashes = [];
      for (const f of files) {
        const r = await uploadAttachment(f);
        names[r.hash] = f.name;
        hashes.push(r.hash);
      }
      setState((s) => ({ busy: false, error: null, names: { ...s.names, ...names } }));
      onChange(multiple ? [...(value || []), ...hashes] : hashes[0]);
    } catch (err) {
      setState((s) => ({ ...s, busy: false, error: err }));
    }
  }
  const list = multiple ? value || [] : value ? [value] : [];
  return html`<div class="attach">
    <input ...${common} type="file" multiple=${multiple} onChange=${pickFiles} disabled=${state.busy} />
    ${state.busy && html`<span class="muted">${t('uploading')}</span>`}
    <${ErrorBox} error=${state.error} />
    ${list.length > 0 &&
    html`<ul class="attach-list">${list.map((h) => html`<li key=${h}>${state.names[h] || h.slice(0, 19) + '…'} · ${t('uploaded')}
      <button type="button" class="link" onClick=${() => onChange(multiple ? list.filter((x) => x !== h) : '')}>${t('removeRow')}</button></li>`)}</ul>`}
  </div>`;
}
