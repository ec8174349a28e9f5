// The workflow drawn as SVG from the API's diagram description: the daemon
// already ranks the nodes and puts the branches of a parallel node into
// lanes, so the two lines of a dual-line review stand side by side. The
// current position is highlighted, finished steps are marked done. 退回
// (return) edges are dashed and run down the left side, to the earlier step
// or to the submitter's marker above the start (geometry in ../layout.js).
import { actionName, pick, t } from '../i18n.js';
import { H, SUBMIT, SUBMIT_R, W, edgePaths, layout } from '../layout.js';
import { html } from '../ui.js';

export { layout };

function lines(text, max) {
  const chars = [...text];
  if (chars.length <= max) return [text];
  return [chars.slice(0, max).join(''), chars.slice(max, max * 2 - 1).join('') + (chars.length > max * 2 - 1 ? '…' : '')];
}

export function Diagram({ wf, inst }) {
  const d = wf.diagram;
  const { pos, submit, width, height } = layout(d);
  const current = new Set(inst ? inst.current_nodes : []);
  const done = new Set(inst ? inst.completed : []);
  if (inst && inst.end_node) done.add(inst.end_node);
  const lanes = d.lanes || [];
  const edges = edgePaths(d, { pos, submit });
  return html`<div class="diagram-wrap">
    <svg class="diagram" viewBox=${`0 0 ${width} ${height}`} role="img"
      aria-label=${pick(wf) + ': ' + (inst ? inst.current_nodes.map((id) => pick(pos.get(id)?.node || { title: id })).join(', ') : '')}
      data-current=${inst ? inst.current_nodes.join(',') : ''}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="arrow" /></marker>
        <marker id="arrow-return" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="arrow-return" /></marker></defs>
      ${lanes.map((l) => {
        const ps = l.nodes.map((id) => pos.get(id)).filter(Boolean);
        if (!ps.length) return null;
        const x = Math.min(...ps.map((p) => p.x)) - 6;
        const y = Math.min(...ps.map((p) => p.y)) - 18;
        const y2 = Math.max(...ps.map((p) => p.y + H)) + 6;
        return html`<g class="lane" data-lane=${l.name} key=${l.name}>
          <rect x=${x} y=${y} width=${W + 12} height=${y2 - y} rx="8" />
          <text x=${x + 6} y=${y + 12} class="lane-label">${l.name}</text></g>`;
      })}
      ${edges.map((e, i) => html`<path key=${i} d=${e.d} class=${'edge edge-' + e.kind + (e.dashed ? ' dashed' : '')}
        data-edge=${e.from + '>' + e.to} data-kind=${e.kind}
        marker-end=${e.kind === 'return' ? 'url(#arrow-return)' : 'url(#arrow)'}><title>${edgeTitle(e, pos)}</title></path>`)}
      <g class="node kind-submit" data-node=${SUBMIT}>
        <title>${t('submitter')}</title>
        <circle cx=${submit.cx} cy=${submit.cy} r=${SUBMIT_R} />
        <text x=${submit.cx} y=${submit.cy + 4} text-anchor="middle">${t('submitShort')}</text>
      </g>
      ${[...pos.values()].map(({ x, y, node }) => {
        const cls = ['node', 'kind-' + node.kind, current.has(node.id) ? 'current' : '', done.has(node.id) ? 'done' : '']
          .filter(Boolean).join(' ');
        const ls = lines(pick(node), 9);
        return html`<g class=${cls} key=${node.id} data-node=${node.id} aria-current=${current.has(node.id) ? 'step' : undefined}>
          <title>${pick(node)}${node.details && node.details.length ? '\n' + node.details.join('\n') : ''}</title>
          <rect x=${x} y=${y} width=${W} height=${H} rx=${node.kind === 'end' ? 23 : 6} />
          ${ls.map((s, i) => html`<text x=${x + W / 2} y=${y + H / 2 + (i - (ls.length - 1) / 2) * 15 + 5} text-anchor="middle">${s}</text>`)}
        </g>`;
      })}
    </svg>
  </div>`;
}

// 退回 edges are titled "退回 → <target>" so a hover names where they lead.
function edgeTitle(e, pos) {
  if (e.kind !== 'return') return e.label;
  const to = e.to === SUBMIT ? t('submitter') : pick(pos.get(e.to)?.node || { title: e.to });
  return actionName('return') + ' → ' + to;
}
