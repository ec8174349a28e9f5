// Unit tests of the UI's pure modules under node: money parsing and display,
// the RFC 9162 inclusion proof check (against proofs computed here from
// the RFC's recursive definition of PATH(m, D[n]), for every leaf of trees of
// 1..17 leaves), form values <-> API values (the pre-filled resubmit form),
// enum option labels, attachment names, and the diagram's return edges.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fenToYuan, yuanToFen } from '../../web/src/money.js';
import { bytesToHex, hexToBytes, rootFromInclusionProof, verifyEntry } from '../../web/src/merkle.js';
import { fromApi, optionLabel, resubmitData, submitterFields, toApi } from '../../web/src/form.js';
import { attachmentName, downloadName, learnAttachmentNames, shortHash } from '../../web/src/attachments.js';
import { SUBMIT, edgePaths, layout } from '../../web/src/layout.js';

test('yuan text to integer fen, exactly', () => {
  assert.equal(yuanToFen('1234.5'), 123450);
  assert.equal(yuanToFen('1,234.56'), 123456);
  assert.equal(yuanToFen(' ¥12 '), 1200);
  assert.equal(yuanToFen('0.1'), 10);
  assert.equal(yuanToFen('0.07'), 7);
  assert.equal(yuanToFen('-3.5'), -350);
  assert.equal(yuanToFen('100000000.01'), 10000000001);
  assert.equal(yuanToFen('1.234'), null);
  assert.equal(yuanToFen('abc'), null);
  assert.equal(yuanToFen(''), null);
  assert.equal(yuanToFen('1e3'), null);
});

test('fen shown as yuan with thousands separators', () => {
  assert.equal(fenToYuan(123456789), '1,234,567.89');
  assert.equal(fenToYuan(5), '0.05');
  assert.equal(fenToYuan(100), '1.00');
  assert.equal(fenToYuan(-123450), '-1,234.50');
  assert.equal(fenToYuan(null), '');
  for (const fen of [0, 1, 99, 100, 123456, 987654321]) assert.equal(yuanToFen(fenToYuan(fen)), fen);
});

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();
const leaf = (d) => sha([0], Buffer.from(d));
function mth(leaves) {
  if (leaves.length === 1) return leaf(leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha([1], mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m, leaves) {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  if (m < k) return [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

test('inclusion proofs of every leaf of trees of 1..17 leaves verify; tampering fails', async () => {
  for (let n = 1; n <= 17; n++) {
    const leaves = Array.from({ length: n }, (_, i) => `{"leaf":${i}}`);
    const root = bytesToHex(mth(leaves));
    for (let m = 0; m < n; m++) {
      const proof = path(m, leaves).map(bytesToHex);
      assert.equal(await rootFromInclusionProof(m, n, leaf(leaves[m]), proof), root, `leaf ${m} of ${n}`);
      const entry = { leaf_data: leaves[m], leaf_hash: bytesToHex(leaf(leaves[m])) };
      const ok = await verifyEntry(entry, { index: m, size: n, proof }, { size: n, root });
      assert.equal(ok.ok, true);
      const forged = await verifyEntry({ ...entry, leaf_data: leaves[m] + ' ' }, { index: m, size: n, proof },
        { size: n, root });
      assert.equal(forged.ok, false);
      if (proof.length) {
        const bad = proof.slice();
        bad[0] = bad[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
        assert.notEqual(await rootFromInclusionProof(m, n, leaf(leaves[m]), bad), root);
        await assert.rejects(rootFromInclusionProof(m, n, leaf(leaves[m]), proof.slice(1)));
      }
    }
  }
});

test('hex helpers round-trip and refuse non-hex', () => {
  assert.equal(bytesToHex(hexToBytes('00ff10ab')), '00ff10ab');
  assert.throws(() => hexToBytes('xyz0'));
});

// A cut-down expense definition as GET /api/v1/workflows/expense sends it.
const HASH = 'sha256:' + 'ab'.repeat(32);
const WF = {
  id: 'expense',
  form: [
    { name: 'purpose', type: 'text', required: true },
    { name: 'category', type: 'enum', options: ['travel', 'office'], option_labels: ['差旅费', '办公费'],
      option_labels_en: ['Travel', 'office'] },
    { name: 'amount', type: 'money', required: true },
    { name: 'attendees', type: 'int' },
    { name: 'invoices', type: 'list<record>', element: { type: 'record', fields: [
      { name: 'number', type: 'text' }, { name: 'amount', type: 'money' }, { name: 'file', type: 'attachment' }] } },
    { name: 'attachments', type: 'list<attachment>', element: { type: 'attachment' } },
    { name: 'voucher_no', type: 'text' },
  ],
  diagram: {
    start: 'dept_head_review',
    nodes: [
      { id: 'dept_head_review', kind: 'approval', lane: -1, rank: 0, details: [] },
      { id: 'finance_review', kind: 'approval', lane: -1, rank: 1, details: [] },
      { id: 'pay', kind: 'task', lane: -1, rank: 2, details: ['assignees: role(cashier)', 'fields: voucher_no'] },
      { id: 'approved', kind: 'end', lane: -1, rank: 3, details: [] },
    ],
    edges: [
      { from: 'dept_head_review', to: 'finance_review', kind: 'next', label: '' },
      { from: 'dept_head_review', to: '__submit', kind: 'return', label: '退回' },
      { from: 'finance_review', to: 'pay', kind: 'next', label: '' },
      { from: 'finance_review', to: '__submit', kind: 'return', label: '退回' },
      { from: 'finance_review', to: 'dept_head_review', kind: 'return', label: '退回' },
      { from: 'finance_review', to: 'approved', kind: 'reject', label: 'reject' },
      { from: 'pay', to: 'approved', kind: 'next', label: '' },
    ],
    lanes: [],
  },
};

test('enum values show the labels the workflow gives them, in either language', () => {
  const category = WF.form[1];
  assert.equal(optionLabel(category, 'travel', 'zh'), '差旅费');
  assert.equal(optionLabel(category, 'travel', 'en'), 'Travel');
  assert.equal(optionLabel(category, 'office', 'zh'), '办公费');
  assert.equal(optionLabel({ options: ['a'] }, 'a', 'zh'), 'a', 'no labels: the id');
  assert.equal(optionLabel(category, 'gone', 'zh'), 'gone', 'a value no longer offered: the id');
});

test('a returned request fills the form it came from, and resubmits what was corrected', () => {
  const previous = {
    purpose: '赴广州参加交流', category: 'travel', amount: 1234560, attendees: 3,
    invoices: [{ number: 'GZ-1', amount: 1234560, file: HASH }], attachments: [HASH],
    voucher_no: 'JZ-7', // filled by a later step: kept, not shown in the form
  };
  const fields = submitterFields(WF);
  assert.deepEqual(fields.map((f) => f.name), ['purpose', 'category', 'amount', 'attendees', 'invoices', 'attachments']);
  const values = Object.fromEntries(fields.map((f) => [f.name, fromApi(f, previous[f.name])]));
  assert.equal(values.amount, '12,345.60');
  assert.equal(values.attendees, '3');
  assert.deepEqual(values.invoices, [{ number: 'GZ-1', amount: '12,345.60', file: HASH }]);
  assert.deepEqual(values.attachments, [HASH]);
  for (const f of fields) assert.deepEqual(toApi(f, values[f.name]), previous[f.name], f.name);
  // The clerk corrects the amount and clears the head count.
  const data = resubmitData(WF, previous, { ...values, amount: '12,000.00', attendees: '' });
  assert.equal(data.amount, 1200000);
  assert.equal('attendees' in data, false);
  assert.equal(data.voucher_no, 'JZ-7');
  assert.deepEqual(data.invoices, previous.invoices);
  assert.deepEqual(fromApi(WF.form[2], undefined), '');
  assert.deepEqual(fromApi(WF.form[4], null), []);
});

test('attachments show the name they were uploaded as; downloads get a safe name', () => {
  assert.equal(attachmentName(HASH), '');
  assert.equal(shortHash(HASH), 'abababababab…');
  assert.equal(downloadName(HASH), 'abababababab');
  learnAttachmentNames({ [HASH]: '发票 GZ-1.pdf' });
  assert.equal(attachmentName(HASH), '发票 GZ-1.pdf');
  assert.equal(downloadName(HASH), '发票 GZ-1.pdf');
  assert.equal(downloadName(HASH, '../a/b\\c\u0001.pdf'), '.._a_b_c_.pdf');
});

test('the diagram draws 退回 edges, dashed, back to the submitter and to earlier steps', () => {
  const geo = layout(WF.diagram);
  const edges = edgePaths(WF.diagram, geo);
  const returns = edges.filter((e) => e.kind === 'return');
  assert.deepEqual(returns.map((e) => e.from + '>' + e.to),
    ['dept_head_review>__submit', 'finance_review>__submit', 'finance_review>dept_head_review']);
  for (const e of returns) {
    assert.equal(e.dashed, true);
    assert.match(e.d, /^M[\d.]+,[\d.]+ C/);
    // They leave from the left side of the node box.
    assert.equal(Number(/^M([\d.]+),/.exec(e.d)[1]), geo.pos.get(e.from).x);
  }
  // The submitter's marker sits above the start node and points at it.
  assert.ok(geo.submit.cy < geo.pos.get('dept_head_review').y);
  assert.ok(edges.some((e) => e.from === SUBMIT && e.to === 'dept_head_review' && !e.dashed));
  // Forward edges stay solid; rejections dashed; every curve inside the picture.
  assert.equal(edges.find((e) => e.kind === 'next' && e.from === 'pay').dashed, false);
  assert.equal(edges.find((e) => e.kind === 'reject').dashed, true);
  for (const e of edges) {
    for (const [, x, y] of [...e.d.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((m) => m.map(Number))) {
      assert.ok(x >= 0 && x <= geo.width && y >= 0 && y <= geo.height, `${e.from}>${e.to} stays inside: ${e.d}`);
    }
  }
});
