// Geometry of the workflow diagram (pure, no DOM, so node's test runner
// checks it): node boxes from the API's ranks and lanes, the submitter's
// marker above the start node, and one path per edge. 退回 (return) edges run
// down the left side, dashed; other backward edges (loops) run down the right.

export const W = 150;
export const H = 46;
export const GAP_X = 24;
export const ROW = 74;
export const PAD = 12;
// Room on the left for the return edges' curves.
export const LEFT = 44;
// The pseudo-node the daemon names for the submitter (return_to: [start]).
export const SUBMIT = '__submit';
export const SUBMIT_R = 18;

export function layout(diagram) {
  const lanes = diagram.lanes || [];
  const columns = Math.max(1, ...lanes.map((l) => l.column + 1));
  const laneCol = new Map(lanes.map((l, i) => [i, l.column]));
  const width = columns * W + (columns - 1) * GAP_X;
  const slots = new Map();
  const pos = new Map();
  // The submitter's marker takes the first row; the flow starts below it.
  const top = PAD + 2 * SUBMIT_R + 22;
  for (const n of diagram.nodes) {
    const key = n.lane + ':' + n.rank;
    const i = slots.get(key) || 0;
    slots.set(key, i + 1);
    let x;
    if (n.lane >= 0) x = (laneCol.get(n.lane) ?? n.lane) * (W + GAP_X);
    else x = (width - W) / 2;
    x += i * (W + GAP_X);
    pos.set(n.id, { x: x + LEFT, y: n.rank * ROW + top, node: n });
  }
  const start = pos.get(diagram.start);
  const cx = start ? start.x + W / 2 : LEFT + width / 2;
  const submit = { x: cx - W / 2, y: PAD, cx, cy: PAD + SUBMIT_R, node: { id: SUBMIT, kind: 'submit' } };
  const boxes = [...pos.values()];
  const maxX = Math.max(LEFT + width, ...boxes.map((p) => p.x + W)) + PAD + 40;
  const maxY = Math.max(submit.cy + SUBMIT_R, ...boxes.map((p) => p.y + H)) + PAD;
  return { pos, submit, width: maxX, height: maxY };
}

// Every edge with its geometry: {from, to, kind, label, d, back, dashed}.
// Edges to nodes the layout does not know are left out; return edges to the
// submitter end at the marker.
export function edgePaths(diagram, { pos, submit }) {
  const out = [];
  if (pos.has(diagram.start)) {
    const b = pos.get(diagram.start);
    out.push({ from: SUBMIT, to: diagram.start, kind: 'next', label: '', back: false, dashed: false,
      d: `M${submit.cx},${submit.cy + SUBMIT_R} L${submit.cx},${b.y}` });
  }
  let returns = 0;
  for (const e of diagram.edges || []) {
    const a = pos.get(e.from);
    if (!a) continue;
    const base = { from: e.from, to: e.to, kind: e.kind, label: e.label || '' };
    if (e.kind === 'return') {
      // Leftward loop, each return edge a little further out so they stay apart.
      const off = 16 + (returns++ % 4) * 6;
      const y1 = a.y + H / 2;
      let d;
      if (e.to === SUBMIT) {
        const x2 = submit.cx - SUBMIT_R;
        d = `M${a.x},${y1} C${a.x - off},${y1} ${Math.min(a.x, x2) - off},${submit.cy} ${x2},${submit.cy}`;
      } else {
        const b = pos.get(e.to);
        if (!b) continue;
        const y2 = b.y + H / 2;
        d = `M${a.x},${y1} C${a.x - off},${y1} ${b.x - off},${y2} ${b.x},${y2}`;
      }
      out.push({ ...base, d, back: true, dashed: true });
      continue;
    }
    const b = pos.get(e.to);
    if (!b) continue;
    const x1 = a.x + W / 2;
    const y1 = a.y + H;
    const x2 = b.x + W / 2;
    const y2 = b.y;
    const back = y2 <= y1;
    const mid = (y1 + y2) / 2;
    const d = back
      ? `M${a.x + W},${a.y + H / 2} C${a.x + W + 40},${a.y} ${b.x + W + 40},${b.y + H} ${b.x + W},${b.y + H / 2}`
      : `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
    const dashed = e.kind === 'reject' || e.kind === 'fail' || e.kind === 'defer';
    out.push({ ...base, d, back, dashed });
  }
  return out;
}
