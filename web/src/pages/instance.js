// One request: its data and attachments, the timeline of every event, the
// workflow diagram with where it stands (the two lines of a dual-line review
// side by side), the meeting view for 三重一大, and exactly the actions the
// viewer may take now. Watches the instance over the WebSocket.
import { useEffect, useRef, useState } from 'preact/hooks';
import { download, get, post } from '../api.js';
import { attachmentName, downloadName, learnAttachmentNames, shortHash } from '../attachments.js';
import { optionLabel } from '../form.js';
import { actionName, eventName, getLang, personName, pick, t } from '../i18n.js';
import { fenToYuan, yuanToFen } from '../money.js';
import { html, ErrorBox, Loading, StatusBadge, newKey, toast } from '../ui.js';
import { Diagram } from './diagram.js';
import { MeetingView } from './meeting.js';
import { ResubmitForm } from './start.js';

async function load(id) {
  const [inst, events] = await Promise.all([
    get('/api/v1/instances/' + id),
    get('/api/v1/instances/' + id + '/events'),
  ]);
  learnAttachmentNames(inst.attachment_names);
  return { inst, events: events.items };
}

export function InstancePage({ id, live, getWorkflow, org, me }) {
  const [state, setState] = useState({ data: null, error: null });
  const [wf, setWf] = useState(null);
  const reload = () =>
    load(id).then(
      (data) => setState({ data, error: null }),
      (error) => setState((s) => ({ ...s, error })),
    );
  useEffect(() => {
    setState({ data: null, error: null });
    reload();
  }, [id]);
  useEffect(() => {
    if (!state.data) return;
    const inst = state.data.inst;
    getWorkflow(inst.workflow, inst.workflow_version).then(setWf, () => {});
  }, [state.data && state.data.inst.workflow]);
  useEffect(() => {
    if (!live) return undefined;
    const unsub = live.subscribe(Number(id));
    const off = live.listen((msg) => {
      if (msg.type === 'instance' && msg.instance && String(msg.instance.id) === String(id)) {
        const evs = (msg.events || []).filter((e) => e.actor && e.actor.id !== 'system');
        if (evs.length) toast(t('updated', { event: evs.map((e) => `${personName(e.actor)} ${eventName(e.type)}`).join('；') }));
        reload();
      }
    });
    return () => {
      off();
      unsub();
    };
  }, [live, id]);

  if (state.error && !state.data) return html`<${ErrorBox} error=${state.error} onRetry=${reload} />`;
  if (!state.data) return html`<${Loading} />`;
  const { inst, events } = state.data;
  const hasMeeting = wf && wf.nodes.some((n) => n.kind === 'meeting');
  return html`<article class="instance" data-instance=${inst.id} data-version=${inst.version} data-status=${inst.status}>
    <header class="inst-head">
      <h1>${inst.title || '#' + inst.id}</h1>
      <div class="inst-meta">
        <span>#${inst.id}</span>
        <span>${pick(inst, 'workflow_title') || inst.workflow}</span>
        <${StatusBadge} status=${inst.status} />
        ${inst.amount ? html`<span class="money">¥${fenToYuan(inst.amount)}</span>` : null}
        <span>${t('submitter')}: ${personName(inst.submitter)}</span>
        <span>${inst.created_at_local}</span>
      </div>
      <div class="current" data-current=${inst.current_nodes.join(',')}>
        ${t('currentStep')}: ${inst.active.length ? inst.active.map((a) => pick(a)).join('、') : '—'}
      </div>
    </header>
    <${ErrorBox} error=${state.error} />
    <div class="inst-grid">
      <div class="inst-main">
        <${Actions} inst=${inst} wf=${wf} org=${org} onDone=${reload} />
        ${hasMeeting && html`<${MeetingView} inst=${inst} events=${events} wf=${wf} me=${me} />`}
        <section aria-labelledby="data-h" class="panel">
          <h2 id="data-h">${t('data')}</h2>
          <${FormData} inst=${inst} wf=${wf} />
        </section>
        <section aria-labelledby="tl-h" class="panel">
          <h2 id="tl-h">${t('timeline')}</h2>
          <${Timeline} events=${events} wf=${wf} />
        </section>
      </div>
      <section aria-labelledby="dg-h" class="panel inst-side">
        <h2 id="dg-h">${t('diagram')}</h2>
        ${wf ? html`<${Diagram} wf=${wf} inst=${inst} />` : html`<${Loading} />`}
      </section>
    </div>
  </article>`;
}

function isAttachment(v) {
  return typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v);
}

// Shows the name the file was uploaded under; downloads by its hash.
// Read through the instance that names it (?instance=), as the API asks.
function AttachmentLink({ hash, instance }) {
  const [err, setErr] = useState(null);
  const name = attachmentName(hash);
  return html`<span class="attach-link"><button type="button" class="link" data-attachment=${hash}
      data-attachment-name=${name} title=${hash}
      onClick=${() => download(`/api/v1/attachments/${hash}?instance=${instance}`, downloadName(hash)).catch(setErr)}>
      ${name || shortHash(hash)}</button><${ErrorBox} error=${err} /></span>`;
}

function Value({ field, value, instance }) {
  const type = field ? String(field.type) : '';
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  if (isAttachment(value)) return html`<${AttachmentLink} hash=${value} instance=${instance} />`;
  if (type.startsWith('money')) return html`<span class="money">¥${fenToYuan(value)}</span>`;
  if (type.startsWith('enum') && field.options) {
    return html`<span data-option=${value}>${optionLabel(field, value, getLang())}</span>`;
  }
  if (Array.isArray(value)) {
    const el = field && field.element;
    return html`<ol class="value-list">${value.map((v, i) => html`<li key=${i}><${Value} field=${el} value=${v} instance=${instance} /></li>`)}</ol>`;
  }
  if (typeof value === 'object') {
    const subs = (field && field.fields) || [];
    return html`<dl class="record-view">${Object.entries(value).map(([k, v]) => {
      const f = subs.find((x) => x.name === k);
      return html`<div key=${k}><dt>${f ? pick(f, 'label') : k}</dt><dd><${Value} field=${f} value=${v} instance=${instance} /></dd></div>`;
    })}</dl>`;
  }
  return html`<span>${String(value)}</span>`;
}

function FormData({ inst, wf }) {
  const fields = wf ? wf.form : [];
  const names = wf ? fields.map((f) => f.name).filter((n) => n in inst.form) : Object.keys(inst.form);
  return html`<dl class="form-view">
    ${names.map((n) => {
      const f = fields.find((x) => x.name === n);
      return html`<div key=${n} data-value=${n}><dt>${f ? pick(f, 'label') : n}</dt><dd><${Value} field=${f} value=${inst.form[n]} instance=${inst.id} /></dd></div>`;
    })}
  </dl>`;
}

function nodeTitleOf(wf, id) {
  if (!id) return '';
  if (!wf) return id;
  const n = wf.nodes.find((x) => x.id === id);
  return n ? pick(n) : id;
}

function Timeline({ events, wf }) {
  return html`<ol class="timeline" data-timeline>
    ${events.map((e) => {
      const system = e.actor && e.actor.id === 'system';
      return html`<li key=${e.version} class=${system ? 'ev system' : 'ev'} data-event=${e.type} data-actor=${e.actor ? e.actor.id : ''}>
        <time>${e.at_local}</time>
        <span class="ev-text"><strong>${personName(e.actor)}</strong>
          ${e.on_behalf_of ? html` <span class="muted">(${t('actedFor', { name: personName(e.on_behalf_of) })})</span>` : null}
          ${' '}${eventName(e.type)}${e.data && e.data.decision ? ' · ' + actionName(e.data.decision) : ''}
          ${e.node ? html` · <em>${nodeTitleOf(wf, e.node)}</em>` : null}
          ${e.data && e.data.verdict ? ` · ${e.data.verdict}` : ''}
          ${e.data && e.data.option ? ` · ${t(e.data.option)}` : ''}</span>
        ${e.comment ? html`<blockquote>${e.comment}</blockquote>` : null}
      </li>`;
    })}
  </ol>`;
}

// The task fields a node asks for ("fields: a, b" in the diagram details).
function nodeTaskFields(wf, nodeId) {
  if (!wf) return [];
  const dn = wf.diagram.nodes.find((n) => n.id === nodeId);
  const names = [];
  for (const d of (dn && dn.details) || []) {
    const m = /^fields:\s*(.+)$/.exec(d);
    if (m) m[1].split(',').forEach((f) => names.push(f.trim()));
  }
  return wf.form.filter((f) => names.includes(f.name));
}

const NEEDS_COMMENT_PROMPT = new Set(['approve', 'reject', 'return', 'transfer', 'delegate', 'add_signer',
  'cc', 'urge', 'comment', 'withdraw', 'take_back', 'opinion', 'complete', 'recuse', 'vote', 'close']);

function Actions({ inst, wf, org, onDone }) {
  const [open, setOpen] = useState(null); // {action, node}
  const seen = new Set();
  const actions = inst.actions.filter((a) => {
    const k = a.action + '@' + a.node;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  // The one-click meeting steps need no form.
  const direct = new Set(['distribute', 'acknowledge', 'attend', 'open']);
  return html`<section aria-labelledby="act-h" class="panel actions">
    <h2 id="act-h">${t('actions')}</h2>
    ${actions.length === 0 && html`<p class="muted">${t('noActions')}</p>`}
    <div class="action-buttons" role="group" aria-label=${t('actions')}>
      ${actions.map((a) => {
        const label = actionName(a.action) + (a.node && inst.active.length > 1 ? ' · ' + nodeTitleOf(wf, a.node) : '');
        return html`<button type="button" key=${a.action + a.node}
          class=${a.action === 'approve' ? 'primary' : a.action === 'reject' ? 'danger' : ''}
          data-action=${a.action} data-node=${a.node} aria-expanded=${open && open.action === a.action && open.node === a.node}
          onClick=${() => setOpen(direct.has(a.action) ? { ...a, direct: true, key: newKey() } : { ...a, key: newKey() })}>${label}</button>`;
      })}
    </div>
    ${open && open.action === 'resubmit' && wf
      ? html`<${ResubmitForm} key=${open.key} wf=${wf} inst=${inst} org=${org}
        onCancel=${() => setOpen(null)} onDone=${() => { setOpen(null); onDone(); }} />`
      : open && html`<${ActionForm} key=${open.key} act=${open} inst=${inst} wf=${wf} org=${org}
        onCancel=${() => setOpen(null)} onDone=${() => { setOpen(null); onDone(); }} />`}
  </section>`;
}

function ActionForm({ act, inst, wf, org, onCancel, onDone }) {
  const node = wf && wf.nodes.find((n) => n.id === act.node);
  const commentRequired = !!(node && node.comment_required && ['approve', 'reject', 'return'].includes(act.action));
  const [comment, setComment] = useState('');
  const [args, setArgs] = useState({ how: 'after', option: 'agree' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const inflight = useRef(false);
  const key = useRef(newKey());
  const fields = act.action === 'complete' ? nodeTaskFields(wf, act.node) : [];
  const setArg = (k, v) => setArgs((a) => ({ ...a, [k]: v }));
  const people = (org && org.people) || [];

  async function send(ev) {
    if (ev) ev.preventDefault();
    if (inflight.current) return;
    if (commentRequired && !comment.trim()) {
      setError({ message: t('commentRequired'), code: 'comment_required' });
      return;
    }
    const body = { action: act.action, expected_version: inst.version };
    if (act.node) body.node = act.node;
    if (comment.trim()) body.comment = comment.trim();
    if (act.action === 'return') body.to = args.to || 'start';
    if (act.action === 'transfer' || act.action === 'delegate') body.to = args.to;
    if (act.action === 'add_signer') {
      body.person = args.person;
      body.how = args.how;
    }
    if (act.action === 'cc') body.people = args.people || [];
    if (act.action === 'vote') body.option = args.option;
    if (act.action === 'recuse' && comment.trim()) body.reason = comment.trim();
    if (act.action === 'complete') {
      const data = {};
      for (const f of fields) {
        const v = args['f_' + f.name];
        if (v === undefined || v === '') continue;
        data[f.name] = String(f.type).startsWith('money') ? yuanToFen(v) : v;
      }
      body.data = data;
    }
    inflight.current = true;
    setBusy(true);
    setError(null);
    try {
      await post(`/api/v1/instances/${inst.id}/actions`, body, { 'Idempotency-Key': key.current });
      toast(actionName(act.action) + ' · ' + t('done_ok'), 'ok');
      onDone();
    } catch (e) {
      setError(e);
      key.current = newKey();
    } finally {
      inflight.current = false;
      setBusy(false);
    }
  }

  useEffect(() => {
    if (act.direct) send();
  }, []);

  const returnTargets = ['start', ...(inst.completed || [])].filter((x, i, a) => a.indexOf(x) === i);
  return html`<form class="action-form" onSubmit=${send} novalidate data-action-form=${act.action}>
    <h3>${actionName(act.action)}${act.node ? ' · ' + nodeTitleOf(wf, act.node) : ''}</h3>
    ${act.action === 'return' && html`<label>${t('returnTo')}
      <select name="to" value=${args.to || 'start'} onChange=${(e) => setArg('to', e.target.value)}>
        ${returnTargets.map((n) => html`<option value=${n}>${n === 'start' ? t('submitter') : nodeTitleOf(wf, n)}</option>`)}
      </select></label>`}
    ${(act.action === 'transfer' || act.action === 'delegate') && html`<label>${t('person')}
      <${PersonSelect} name="to" people=${people} value=${args.to} onChange=${(v) => setArg('to', v)} /></label>`}
    ${act.action === 'add_signer' && html`<label>${t('person')}
      <${PersonSelect} name="person" people=${people} value=${args.person} onChange=${(v) => setArg('person', v)} /></label>
      <label>${t('how')}<select name="how" value=${args.how} onChange=${(e) => setArg('how', e.target.value)}>
        <option value="before">${t('before')}</option><option value="after">${t('after')}</option>
      </select></label>`}
    ${act.action === 'cc' && html`<label>${t('people')}
      <select name="people" multiple size="5" onChange=${(e) => setArg('people', Array.from(e.target.selectedOptions, (o) => o.value))}>
        ${people.map((p) => html`<option value=${p.id}>${personName(p)}</option>`)}
      </select></label>`}
    ${act.action === 'vote' && html`<fieldset class="vote"><legend>${t('option')}</legend>
      ${['agree', 'disagree', 'defer'].map((o) => html`<label class="inline"><input type="radio" name="option" value=${o}
        checked=${args.option === o} onChange=${() => setArg('option', o)} /> ${t(o)}</label>`)}</fieldset>`}
    ${fields.map((f) => html`<label key=${f.name}>${pick(f, 'label')}
      <input type=${String(f.type).startsWith('attachment') ? 'text' : 'text'} name=${'f_' + f.name}
        value=${args['f_' + f.name] || ''} onInput=${(e) => setArg('f_' + f.name, e.target.value)} /></label>`)}
    ${!act.direct && NEEDS_COMMENT_PROMPT.has(act.action) && html`<label>${act.action === 'recuse' ? t('reason') : act.action === 'opinion' ? t('comment') : t('comment')}
      ${commentRequired || act.action === 'opinion' ? html`<span class="req"> *</span>` : null}
      <textarea name="comment" rows="3" value=${comment} required=${commentRequired || act.action === 'opinion'}
        aria-required=${commentRequired ? 'true' : undefined} onInput=${(e) => setComment(e.target.value)} /></label>`}
    <${ErrorBox} error=${error} />
    ${!act.direct && html`<div class="form-actions">
      <button type="submit" class="primary" disabled=${busy} data-confirm>${busy ? t('submitting') : t('confirm')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button></div>`}
    ${act.direct && error && html`<button type="button" onClick=${onCancel}>${t('cancel')}</button>`}
  </form>`;
}

function PersonSelect({ name, people, value, onChange }) {
  return html`<select name=${name} value=${value || ''} onChange=${(e) => onChange(e.target.value)}>
    <option value="">—</option>
    ${people.map((p) => html`<option value=${p.id}>${personName(p)} (${p.id})</option>`)}
  </select>`;
}
