// 发起: pick a workflow, fill the form generated from its typed fields, attach
// files, submit once (an Idempotency-Key per form, the button locked while
// the request is in flight, so a double click never makes two requests).
import { useRef, useState } from 'preact/hooks';
import { post, uploadAttachment } from '../api.js';
import { attachmentName, rememberAttachmentName, shortHash } from '../attachments.js';
import { baseType, emptyValue, fromApi, optionLabel, resubmitData, submitterFields, toApi } from '../form.js';
import { getLang, t, pick } from '../i18n.js';
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

export function StartForm({ wf, org }) {
  return html`<section aria-labelledby="form-h">
    <h1 id="form-h">${pick(wf)}</h1>
    <${FormEditor} wf=${wf} org=${org} submitLabel=${t('submit')}
      send=${async (values, key) => {
        const data = {};
        for (const f of submitterFields(wf)) {
          const v = toApi(f, values[f.name]);
          if (v !== undefined) data[f.name] = v;
        }
        const inst = await post('/api/v1/instances', { workflow: wf.id, data }, { 'Idempotency-Key': key });
        toast(t('submitted', { id: inst.id }), 'ok');
        location.hash = '#/i/' + inst.id;
      }} />
  </section>`;
}

// 退回 to the submitter: the form again, filled with the request's data
// (attachments included), sent as the workflow's resubmit action.
export function ResubmitForm({ wf, inst, org, onDone, onCancel }) {
  const initial = Object.fromEntries(submitterFields(wf).map((f) => [f.name, fromApi(f, inst.form[f.name])]));
  return html`<div class="resubmit" data-resubmit=${inst.id}>
    <h3>${t('resubmitTitle')}</h3>
    <p class="muted">${t('resubmitHint')}</p>
    <${FormEditor} wf=${wf} org=${org} initial=${initial} submitLabel=${t('resubmit')} onCancel=${onCancel}
      send=${async (values, key) => {
        const body = { action: 'resubmit', expected_version: inst.version, data: resubmitData(wf, inst.form, values) };
        await post(`/api/v1/instances/${inst.id}/actions`, body, { 'Idempotency-Key': key });
        toast(t('resubmit') + ' · ' + t('done_ok'), 'ok');
        onDone();
      }} />
  </div>`;
}

// The form of a workflow's submitter fields, validated in place; `send`
// gets the values and an Idempotency-Key (a new one after each success), and
// the button stays locked while it runs, so a double click sends once.
function FormEditor({ wf, org, initial, submitLabel, send, onCancel }) {
  const fields = submitterFields(wf);
  const [values, setValues] = useState(() => initial || Object.fromEntries(fields.map((f) => [f.name, emptyValue(f)])));
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
    inflight.current = true;
    setBusy(true);
    setError(null);
    try {
      await send(values, key.current);
      key.current = newKey();
    } catch (e) {
      setError(e);
    } finally {
      inflight.current = false;
      setBusy(false);
    }
  }

  return html`<form class="form" onSubmit=${submit} novalidate data-workflow=${wf.id}>
      ${fields.map(
        (f) => html`<${Field} key=${f.name} field=${f} path=${f.name} value=${values[f.name]}
          error=${errors[f.name]} errors=${errors} org=${org} onChange=${(v) => set(f.name, v)} />`,
      )}
      <${ErrorBox} error=${error} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy} aria-busy=${busy} data-submit>
          ${busy ? t('submitting') : submitLabel}</button>
        ${onCancel && html`<button type="button" onClick=${onCancel}>${t('cancel')}</button>`}
      </div>
    </form>`;
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
      ${(field.options || []).map((o) => html`<option value=${o}>${optionLabel(field, o, getLang())}</option>`)}
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
  const [state, setState] = useState({ busy: false, error: null });
  async function pickFiles(e) {
    const files = Array.from(e.target.files || []);
    if (!files.length) return;
    setState({ busy: true, error: null });
    try {
      const hashes = [];
      for (const f of files) {
        const r = await uploadAttachment(f);
        rememberAttachmentName(r.hash, r.name || f.name);
        hashes.push(r.hash);
      }
      setState({ busy: false, error: null });
      onChange(multiple ? [...(value || []), ...hashes] : hashes[0]);
    } catch (err) {
      setState({ busy: false, error: err });
    }
  }
  const list = multiple ? value || [] : value ? [value] : [];
  return html`<div class="attach">
    <input ...${common} type="file" multiple=${multiple} onChange=${pickFiles} disabled=${state.busy} />
    ${state.busy && html`<span class="muted">${t('uploading')}</span>`}
    <${ErrorBox} error=${state.error} />
    ${list.length > 0 &&
    html`<ul class="attach-list">${list.map((h) => html`<li key=${h} data-attachment-name=${attachmentName(h)}>
      ${attachmentName(h) || shortHash(h)} · ${t('uploaded')}
      <button type="button" class="link" onClick=${() => onChange(multiple ? list.filter((x) => x !== h) : '')}>${t('removeRow')}</button></li>`)}</ul>`}
  </div>`;
}
