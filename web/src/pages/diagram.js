// The workflow drawn as SVG from the API's diagram description: the daemon
// already ranks the nodes and puts the branches of a parallel node into
// lanes, so the two lines of a dual-line review stand side by side. The
// current position is highlighted, finished steps are marked done.
import { pick } from '../i18n.js';
import { html } from '../ui.js';

const W = 150;
const H = 46;
const GAP_X = 24;
const ROW = 74;
const PAD = 12;

function lines(text, max) {
  const chars = [...text];
  if (chars.length <= max) return [text];
  return [chars.slice(0, max).join(''), chars.slice(max, max * 2 - 1).join('') + (chars.length > max * 2 - 1 ? '…' : '')];
}

export function layout(diagram) {
  const lanes = diagram.lanes || [];
  const columns = Math.max(1, ...lanes.map((l) => l.column + 1));
  const laneCol = new Map(lanes.map((l, i) => [i, l.column]));
  const width = columns * W + (columns - 1) * GAP_X;
  const slots = new Map();
  const pos = new Map();
  for (const n of diagram.nodes) {
    const key = n.lane + ':' + n.rank;
    const i = slots.get(key) || 0;
    slots.set(key, i + 1);
    let x;
    if (n.lane >= 0) x = (laneCol.get(n.lane) ?? n.lane) * (W + GAP_X);
    else x = (width - W) / 2;
    x += i * (W + GAP_X);
    pos.set(n.id, { x: x + PAD, y: n.rank * ROW + PAD, node: n });
  }
  const maxX = Math.max(...[...pos.values()].map((p) => p.x + W)) + PAD;
  const maxY = Math.max(...[...pos.values()].map((p) => p.y + H)) + PAD;
  return { pos, width: Math.max(maxX, width + 2 * PAD), height: maxY };
}

export function Diagram({ wf, inst }) {
  const d = wf.diagram;
  const { pos, width, height } = layout(d);
  const current = new Set(inst ? inst.current_nodes : []);
  const done = new Set(inst ? inst.completed : []);
  if (inst && inst.end_node) done.add(inst.end_node);
  const lanes = d.lanes || [];
  const edges = d.edges.filter((e) => pos.has(e.from) && pos.has(e.to) && e.kind !== 'return');
  return html`<div class="diagram-wrap">
    <svg class="diagram" viewBox=${`0 0 ${width} ${height}`} role="img"
      aria-label=${pick(wf) + ': ' + (inst ? inst.current_nodes.map((id) => pick(pos.get(id)?.node || { title: id })).join(', ') : '')}
      data-current=${inst ? inst.current_nodes.join(',') : ''}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="arrow" /></marker></defs>
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
      ${edges.map((e, i) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        const x1 = a.x + W / 2;
        const y1 = a.y + H;
        const x2 = b.x + W / 2;
        const y2 = b.y;
        const back = y2 <= y1;
        const mid = (y1 + y2) / 2;
        const path = back
          ? `M${a.x + W},${a.y + H / 2} C${a.x + W + 40},${a.y} ${b.x + W + 40},${b.y + H} ${b.x + W},${b.y + H / 2}`
          : `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
        return html`<path key=${i} d=${path} class=${'edge edge-' + e.kind} marker-end="url(#arrow)"><title>${e.label}</title></path>`;
      })}
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
