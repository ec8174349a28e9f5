// RFC 9162 (Certificate Transparency v2) inclusion proof verification with
// WebCrypto SHA-256, so an auditor checks in the browser that an audit entry
// is in the tree whose root the daemon signed.

const enc = new TextEncoder();

export function hexToBytes(hex) {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex: ' + hex);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

// HASH(0x00 || data): the leaf hash of the entry's exact bytes.
export async function leafHash(leafData) {
  const data = typeof leafData === 'string' ? enc.encode(leafData) : leafData;
  return sha256(Uint8Array.of(0), data);
}

// Recomputes the root from a leaf hash and its audit path (RFC 9162
// §2.1.3.2). Returns the root as hex; throws if the path is malformed.
export async function rootFromInclusionProof(index, size, leafHashBytes, proofHex) {
  if (!(index >= 0 && index < size)) throw new Error(`index ${index} outside a tree of ${size}`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leafHashBytes;
  const one = Uint8Array.of(1);
  for (const hex of proofHex) {
    const p = hexToBytes(hex);
    if (sn === 0n) throw new Error('the proof is longer than the tree is deep');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(one, p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await sha256(one, r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('the proof is shorter than the tree is deep');
  return bytesToHex(r);
}

// Verifies an audit entry against a checkpoint: the entry's bytes hash to
// its leaf hash, and its inclusion proof leads to the checkpoint's root.
// Resolves to {ok, leafHash, computedRoot, reason}.
export async function verifyEntry(entry, proof, checkpoint) {
  const lh = bytesToHex(await leafHash(entry.leaf_data));
  if (entry.leaf_hash && lh !== entry.leaf_hash.toLowerCase()) {
    return { ok: false, leafHash: lh, reason: 'leaf_hash_mismatch' };
  }
  if (proof.size !== checkpoint.size) {
    return { ok: false, leafHash: lh, reason: 'proof_size_mismatch' };
  }
  let root;
  try {
    root = await rootFromInclusionProof(proof.index, proof.size, hexToBytes(lh), proof.proof);
  } catch (e) {
    return { ok: false, leafHash: lh, reason: 'bad_proof', detail: e.message };
  }
  const ok = root === checkpoint.root.toLowerCase();
  return { ok, leafHash: lh, computedRoot: root, reason: ok ? '' : 'root_mismatch' };
}
