// 报表: the reports the viewer may read (GET /api/v1/me lists them: auditors
// and the office), for a period: shown as a table here, or downloaded as CSV.
import { useState } from 'preact/hooks';
import { download, get, qs } from '../api.js';
import { t } from '../i18n.js';
import { html, ErrorBox, Loading } from '../ui.js';

// Report name -> i18n key of its title.
const TITLES = { 'sanzhong-ledger': 'ledger', rectification: 'rectification', procurement: 'procurement' };

export function reportTitle(name) {
  return TITLES[name] ? t(TITLES[name]) : name;
}

export function ReportsPage({ me }) {
  const names = (me && me.reports) || [];
  const [period, setPeriod] = useState({ from: '', to: '' });
  const [shown, setShown] = useState(null); // {name, table} | {name, loading}
  const [error, setError] = useState(null);

  async function view(name) {
    setError(null);
    setShown({ name, loading: true });
    try {
      const table = await get(`/api/v1/reports/${name}${qs({ from: period.from, to: period.to })}`);
      setShown({ name, table });
    } catch (e) {
      setShown(null);
      setError(e);
    }
  }
  async function csv(name) {
    setError(null);
    try {
      await download(`/api/v1/reports/${name}${qs({ format: 'csv', from: period.from, to: period.to })}`, name + '.csv');
    } catch (e) {
      setError(e);
    }
  }

  if (!names.length) return html`<p role="alert">${t('notFound')}</p>`;
  const date = (k) => html`<label>${t(k)}<input type="date" name=${k} value=${period[k]}
    onInput=${(e) => setPeriod({ ...period, [k]: e.target.value })} /></label>`;
  return html`<section aria-labelledby="reports-h" class="reports">
    <h1 id="reports-h">${t('reports')}</h1>
    <p class="muted">${t('reportsHint')}</p>
    <div class="search">${date('from')} ${date('to')}</div>
    <ul class="cards">
      ${names.map((n) => html`<li class="card" key=${n} data-report-card=${n}>
        <strong>${reportTitle(n)}</strong>
        <div class="form-actions">
          <button type="button" class="primary" onClick=${() => view(n)} data-report-view=${n}>${t('view')}</button>
          <button type="button" onClick=${() => csv(n)} data-report=${n}>CSV</button>
        </div></li>`)}
    </ul>
    <${ErrorBox} error=${error} />
    ${shown && shown.loading && html`<${Loading} />`}
    ${shown && shown.table && html`<${ReportTable} name=${shown.name} table=${shown.table} />`}
  </section>`;
}

function ReportTable({ name, table }) {
  const summary = table.summary || {};
  return html`<section class="panel" data-report-table=${name} aria-labelledby="rt-h">
    <h2 id="rt-h">${reportTitle(name)}</h2>
    ${summary.text ? html`<p data-report-summary>${summary.text}</p>` : null}
    <p class="muted">${t('rowsCount', { n: table.rows.length })}</p>
    ${table.rows.length === 0 ? html`<p class="muted">${t('empty')}</p>` : html`<div class="table-wrap"><table class="audit-table">
      <thead><tr>${table.columns.map((c) => html`<th scope="col" key=${c.id}>${c.title}</th>`)}</tr></thead>
      <tbody>${table.rows.map((r, i) => html`<tr key=${i}>${table.columns.map((c) => html`<td key=${c.id}>${r[c.id]}</td>`)}</tr>`)}</tbody>
    </table></div>`}
  </section>`;
}
