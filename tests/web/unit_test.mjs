// Unit tests of the UI's pure modules under node: money parsing and display,
// and the RFC 9162 inclusion proof check (against proofs computed here from
// the RFC's recursive definition of PATH(m, D[n]), for every leaf of trees of
// 1..17 leaves).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fenToYuan, yuanToFen } from '../../web/src/money.js';
import { bytesToHex, hexToBytes, rootFromInclusionProof, verifyEntry } from '../../web/src/merkle.js';

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
