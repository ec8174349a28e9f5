// 我的待办 / 已办 / 抄送我的 / 我发起的: lists that refresh by themselves when
// the WebSocket pushes a task or a change of a watched instance.
import { useEffect } from 'preact/hooks';
import { get, qs } from '../api.js';
import { t, pick } from '../i18n.js';
import { fenToYuan } from '../money.js';
import { html, ErrorBox, Loading, StatusBadge, useAsync, toast } from '../ui.js';

const TABS = ['pending', 'done', 'cc', 'mine'];

function load(kind) {
  if (kind === 'mine') {
    return get('/api/v1/instances' + qs({ mine: 'true', limit: 100 })).then((r) =>
      r.items.slice().reverse().map((row) => ({ instance: row.id, node: '', instance_row: row })),
    );
  }
  return get('/api/v1/tasks' + qs({ kind, limit: 100 })).then((r) => r.items);
}

export function TasksPage({ kind, live, workflows }) {
  const { data, error, loading, reload } = useAsync(() => load(kind), [kind]);

  useEffect(() => {
    if (!live) return undefined;
    const off = live.listen((msg) => {
      if (msg.type === 'task') {
        const row = msg.instance || {};
        toast(t('newTask', { title: row.title || '#' + row.id }));
        reload();
      } else if (msg.type === 'instance') {
        reload();
      }
    });
    return off;
  }, [live, kind]);

  // On "mine", watch my running requests so each step shows up live.
  useEffect(() => {
    if (!live || kind !== 'mine' || !data) return undefined;
    const offs = data
      .filter((x) => x.instance_row && x.instance_row.status === 'running')
      .slice(0, 50)
      .map((x) => live.subscribe(x.instance));
    return () => offs.forEach((f) => f());
  }, [live, kind, data]);

  return html`<section aria-labelledby="tasks-h">
    <h1 id="tasks-h" class="sr-only">${t(kind)}</h1>
    <nav class="tabs" aria-label=${t('pending')}>
      ${TABS.map(
        (k) => html`<a href=${'#/tasks/' + k} class=${k === kind ? 'tab active' : 'tab'}
          aria-current=${k === kind ? 'page' : undefined} data-tab=${k}>${t(k)}</a>`,
      )}
    </nav>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${loading && !data ? html`<${Loading} />` : null}
    ${data && data.length === 0 ? html`<p class="muted empty">${t('empty')}</p>` : null}
    ${data && data.length > 0
      ? html`<ul class="cards" data-list=${kind}>
          ${data.map((task) => html`<${TaskCard} key=${task.instance + ':' + task.node} task=${task} workflows=${workflows} />`)}
        </ul>`
      : null}
  </section>`;
}

function TaskCard({ task, workflows }) {
  const row = task.instance_row || { id: task.instance };
  const wf = workflows && workflows.find((w) => w.id === row.workflow);
  return html`<li class="card" data-instance=${row.id}>
    <a href=${'#/i/' + row.id} class="card-link">
      <div class="card-top">
        <strong class="card-title">${row.title || '#' + row.id}</strong>
        ${row.status && html`<${StatusBadge} status=${row.status} />`}
      </div>
      <div class="card-meta">
        <span>#${row.id} · ${wf ? pick(wf) : row.workflow}</span>
        ${row.amount ? html`<span class="money">¥${fenToYuan(row.amount)}</span>` : null}
      </div>
      <div class="card-meta muted">
        <span>${t('submitter')}: ${row.submitter ? pick(row.submitter, 'name') : ''}</span>
        <span class="current" data-current=${(row.current_nodes || []).join(',')}>
          ${t('currentStep')}: ${(row.current_nodes || []).map((n) => nodeTitle(wf, n)).join('、') || '—'}</span>
        <span>${task.since_local || row.updated_at_local || ''}</span>
      </div>
    </a>
  </li>`;
}

export function nodeTitle(wf, id) {
  if (!wf || !wf.nodes) return id;
  const n = wf.nodes.find((x) => x.id === id);
  return n ? pick(n) : id;
}
