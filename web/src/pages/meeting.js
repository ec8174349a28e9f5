// The 三重一大 meeting view: agenda, read receipts, attendance and quorum,
// recusals, the speaking order with the head of unit's turn locked until
// every other present member has spoken, the votes, the result and minutes
// generated from the meeting record. Built from the instance's events (so it
// still shows a closed meeting) and the live meeting object while it runs.
import { personName, pick, t } from '../i18n.js';
import { fenToYuan } from '../money.js';
import { html } from '../ui.js';

// Folds the events of the latest round of each meeting node.
export function foldMeeting(events, nodeId) {
  const m = {
    node: nodeId, members: [], head: null, secretaries: [], distributed: false, receipts: new Set(),
    present: new Set(), recused: new Map(), opened: null, opinions: [], votes: [], closed: null,
  };
  for (const e of events) {
    if (e.node !== nodeId) continue;
    const d = e.data || {};
    switch (e.type) {
      case 'node_entered':
        if (d.meeting) {
          Object.assign(m, {
            members: d.meeting.members || [], head: d.meeting.head, secretaries: d.meeting.secretaries || [],
            distributed: false, receipts: new Set(), present: new Set(), recused: new Map(), opened: null,
            opinions: [], votes: [], closed: null,
          });
        }
        break;
      case 'agenda_distributed': m.distributed = true; break;
      case 'receipt_acknowledged': m.receipts.add(d.person); break;
      case 'attended': m.present.add(d.person); break;
      case 'recused': m.recused.set(d.person, d.reason || e.comment || ''); m.present.delete(d.person); break;
      case 'meeting_opened': m.opened = d; break;
      case 'opinion_stated': m.opinions.push({ person: d.person, opinion: d.opinion || e.comment, actor: e.actor }); break;
      case 'voted': m.votes.push({ person: d.person, option: d.option }); break;
      case 'meeting_closed': m.closed = { ...d, at: e.at_local }; break;
      default: break;
    }
  }
  return m;
}

function ratioText(s) {
  return s || '';
}

export function MeetingView({ inst, events, wf }) {
  const meetingNodes = wf.nodes.filter((n) => n.kind === 'meeting');
  return meetingNodes.map((n) => {
    const entered = events.some((e) => e.node === n.id && e.type === 'node_entered');
    if (!entered) return null;
    return html`<${OneMeeting} key=${n.id} node=${n} inst=${inst} events=${events} wf=${wf} />`;
  });
}

function OneMeeting({ node, inst, events, wf }) {
  const m = foldMeeting(events, node.id);
  const people = new Map();
  const active = inst.active.find((a) => a.node === node.id);
  const live = active && active.meeting;
  if (live) {
    for (const p of [...live.members, live.head, ...live.secretaries]) if (p) people.set(p.id, p);
  }
  for (const e of events) if (e.actor) people.set(e.actor.id, e.actor);
  const name = (id) => (people.has(id) ? personName(people.get(id)) : id);
  const details = (wf.diagram.nodes.find((x) => x.id === node.id) || {}).details || [];
  const quorumRules = details.filter((d) => d.startsWith('quorum') || d.startsWith('pass'));

  const entitled = m.members.filter((p) => !m.recused.has(p));
  const present = entitled.filter((p) => m.present.has(p));
  const others = present.filter((p) => p !== m.head);
  const spoken = new Set(m.opinions.map((o) => o.person));
  const othersDone = others.every((p) => spoken.has(p));
  // Speaking order: those who spoke, in order; then the others still to
  // speak; the head of unit always last.
  const order = [...m.opinions.map((o) => o.person).filter((p) => p !== m.head),
    ...others.filter((p) => !spoken.has(p))];
  if (m.head && (present.includes(m.head) || spoken.has(m.head))) order.push(m.head);
  const opinionOf = (p) => (m.opinions.find((o) => o.person === p) || {}).opinion;
  const voteOf = (p) => (m.votes.find((v) => v.person === p) || {}).option;
  const tally = { agree: 0, disagree: 0, defer: 0 };
  for (const v of m.votes) tally[v.option] = (tally[v.option] || 0) + 1;
  const result = m.closed ? m.closed.result : null;
  const form = inst.form;

  return html`<section class="panel meeting" aria-labelledby=${'mt-' + node.id} data-meeting=${node.id}>
    <h2 id=${'mt-' + node.id}>${t('meeting')} · ${pick(node)}</h2>
    <div class="meeting-grid">
      <div>
        <h3>${t('agenda')}</h3>
        <ol class="agenda"><li><strong>${form.topic || inst.title}</strong>
          ${form.agenda_no ? html` <span class="muted">(${form.agenda_no})</span>` : null}
          ${form.amount ? html` · <span class="money">¥${fenToYuan(form.amount)}</span>` : null}
          ${form.background ? html`<p class="muted">${form.background}</p>` : null}</li></ol>
        <p>${m.distributed ? t('distributed') : t('notDistributed')} · ${m.opened ? t('opened') : t('notOpened')}</p>
        <p class="quorum" data-quorum=${present.length + '/' + entitled.length}>
          <strong>${t('quorum')}:</strong> ${t('present')} ${present.length} ${t('of')} ${entitled.length}
          ${m.opened ? html` · ${ratioText(m.opened.quorum)}` : null}
          ${quorumRules.length ? html`<br /><small class="muted">${quorumRules.join('; ')}</small>` : null}
        </p>
      </div>
      <div>
        <h3>${t('members')}</h3>
        <table class="members">
          <thead><tr><th scope="col">${t('members')}</th><th scope="col">${t('receipts')}</th><th scope="col">${t('present')}</th></tr></thead>
          <tbody>${m.members.map((p) => html`<tr key=${p} data-member=${p}>
            <th scope="row">${name(p)}${p === m.head ? html` <span class="badge">${t('head')}</span>` : null}</th>
            <td>${m.receipts.has(p) ? '✓' : '—'}</td>
            <td>${m.recused.has(p) ? html`<span class="badge warn" data-recused=${p}>${t('recused')}${m.recused.get(p) ? ': ' + m.recused.get(p) : ''}</span>`
              : m.present.has(p) ? '✓' : '—'}</td></tr>`)}</tbody>
        </table>
      </div>
    </div>
    <h3>${t('speakingOrder')}</h3>
    <ol class="speaking" data-speaking>
      ${order.map((p) => {
        const isHead = p === m.head;
        const locked = isHead && !othersDone && !spoken.has(p);
        return html`<li key=${p} class=${(locked ? 'locked' : '') + (spoken.has(p) ? ' spoken' : '')} data-speaker=${p}
            data-locked=${locked ? 'true' : 'false'}>
          <strong>${name(p)}</strong>${isHead ? html` <span class="badge">${t('head')}</span>` : null}
          ${locked ? html` <span class="badge lock">${t('locked')} · ${t('lockedUntilLast')}</span>` : null}
          ${opinionOf(p) ? html`<span>：${opinionOf(p)}</span>` : null}
          ${voteOf(p) ? html` <span class=${'badge vote-' + voteOf(p)}>${t(voteOf(p))}</span>` : null}
        </li>`;
      })}
    </ol>
    ${m.votes.length > 0 && html`<p class="tally" data-tally><strong>${t('votes')}:</strong>
      ${t('agree')} ${tally.agree} · ${t('disagree')} ${tally.disagree} · ${t('defer')} ${tally.defer}</p>`}
    ${result && html`<p class=${'result result-' + result} data-result=${result}><strong>${t('result')}:</strong> ${t(result)}</p>`}
    ${m.closed && html`<${Minutes} inst=${inst} m=${m} name=${name} node=${node} />`}
  </section>`;
}

function Minutes({ inst, m, name, node }) {
  const form = inst.form;
  const order = m.closed.speaking_order || m.opinions.map((o) => o.person);
  const tally = m.closed.tally || {};
  const text = [
    `${pick(node)} — ${form.agenda_no || ''}`,
    `${t('agenda')}: ${form.topic || inst.title}`,
    `${t('present')}: ${[...m.present].map(name).join('、')}`,
    m.recused.size ? `${t('recused')}: ${[...m.recused].map(([p, r]) => name(p) + (r ? `（${r}）` : '')).join('、')}` : '',
    `${t('speakingOrder')}:`,
    ...order.map((p, i) => `  ${i + 1}. ${name(p)}：${(m.opinions.find((o) => o.person === p) || {}).opinion || ''}`),
    `${t('votes')}: ${t('agree')} ${tally.agree || 0}, ${t('disagree')} ${tally.disagree || 0}, ${t('defer')} ${tally.defer || 0}`,
    `${t('result')}: ${t(m.closed.result)} (${m.closed.at})`,
  ].filter(Boolean);
  return html`<div class="minutes"><h3>${t('minutesDraft')}</h3><pre data-minutes>${text.join('\n')}</pre>
    ${form.decision_no ? html`<p>${form.decision_no}</p>` : null}</div>`;
}
