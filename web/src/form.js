// Form values <-> API values, pure (no DOM, no i18n state) so node's test
// runner checks them. The form keeps what people type (money as yuan text,
// ints as text); the API takes money as integer fen and ints as numbers.
import { fenToYuan, yuanToFen } from './money.js';

export function baseType(type) {
  return String(type).split(/[<{]/)[0];
}

export function emptyValue(field) {
  const b = baseType(field.type);
  if (b === 'list') return [];
  if (b === 'record') return {};
  if (b === 'bool') return false;
  return '';
}

// Form value -> API value (money in fen, ints as numbers, empty dropped).
export function toApi(field, v) {
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

// API value -> form value: the inverse of toApi, so a returned request's
// data fills the form it was sent from (toApi(f, fromApi(f, v)) equals v).
export function fromApi(field, v) {
  const b = baseType(field.type);
  if (v === null || v === undefined) return emptyValue(field);
  if (b === 'money') return fenToYuan(v);
  if (b === 'int') return String(v);
  if (b === 'list') {
    const el = field.element || {};
    return Array.isArray(v) ? v.map((x) => fromApi(el, x)) : [];
  }
  if (b === 'record') {
    const out = {};
    for (const f of field.fields || []) {
      if (v[f.name] !== undefined && v[f.name] !== null) out[f.name] = fromApi(f, v[f.name]);
    }
    return out;
  }
  return v;
}

// Fields that a later step fills in (task fields, "fields: a, b" in the
// diagram's node details), not the submitter.
export function taskFields(wf) {
  const out = new Set();
  for (const n of (wf.diagram && wf.diagram.nodes) || []) {
    for (const d of n.details || []) {
      const m = /^fields:\s*(.+)$/.exec(d);
      if (m) m[1].split(',').forEach((f) => out.add(f.trim()));
    }
  }
  return out;
}

// The fields the submitter fills in.
export function submitterFields(wf) {
  const tf = taskFields(wf);
  return wf.form.filter((f) => !tf.has(f.name));
}

// The data a resubmission sends: the instance's current form (which may hold
// task fields later steps filled in), with the submitter's fields replaced by
// what the form holds now; a submitter field left empty is dropped.
export function resubmitData(wf, previous, values) {
  const data = { ...previous };
  for (const f of submitterFields(wf)) {
    const v = toApi(f, values[f.name]);
    if (v === undefined) delete data[f.name];
    else data[f.name] = v;
  }
  return data;
}

// The display label of an enum value in `lang` ('zh' or 'en'); the id when
// the definition gives no label.
export function optionLabel(field, value, lang) {
  const i = (field.options || []).indexOf(value);
  if (i < 0) return String(value);
  const zh = field.option_labels && field.option_labels[i];
  const en = field.option_labels_en && field.option_labels_en[i];
  return (lang === 'en' ? en || zh : zh) || value;
}
