// Merkle tree math against a naive, literal transcription of the RFC 9162
// definitions (MTH, PATH, PROOF/SUBPROOF) computed over all leaves in memory.
#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace approvald::audit {
namespace {

// ---- Naive reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 verbatim. ------

int64_t Split(int64_t n) {
  int64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash NaiveMth(const std::vector<Hash>& leaves, int64_t lo, int64_t hi) {
  if (hi == lo) return EmptyRoot();
  if (hi - lo == 1) return leaves[lo];
  int64_t k = Split(hi - lo);
  return NodeHash(NaiveMth(leaves, lo, lo + k), NaiveMth(leaves, lo + k, hi));
}

std::vector<Hash> NaivePath(const std::vector<Hash>& leaves, int64_t m, int64_t lo,
                            int64_t hi) {
  if (hi - lo == 1) return {};
  int64_t k = Split(hi - lo);
  std::vector<Hash> out;
  if (m < k) {
    out = NaivePath(leaves, m, lo, lo + k);
    out.push_back(NaiveMth(leaves, lo + k, hi));
  } else {
    out = NaivePath(leaves, m - k, lo + k, hi);
    out.push_back(NaiveMth(leaves, lo, lo + k));
  }
  return out;
}

std::vector<Hash> NaiveSubproof(const std::vector<Hash>& leaves, int64_t m, int64_t lo,
                                int64_t hi, bool b) {
  int64_t n = hi - lo;
  if (m == n) {
    if (b) return {};
    return {NaiveMth(leaves, lo, hi)};
  }
  int64_t k = Split(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = NaiveSubproof(leaves, m, lo, lo + k, b);
    out.push_back(NaiveMth(leaves, lo + k, hi));
  } else {
    out = NaiveSubproof(leaves, m - k, lo + k, hi, false);
    out.push_back(NaiveMth(leaves, lo, lo + k));
  }
  return out;
}

std::vector<Hash> Leaves(int n) {
  std::vector<Hash> out;
  for (int i = 0; i < n; ++i) out.push_back(LeafHash("leaf " + std::to_string(i)));
  return out;
}

MemoryTree TreeOf(const std::vector<Hash>& leaves) {
  MemoryTree t;
  for (const Hash& h : leaves) t.AppendHash(h);
  return t;
}

// ---- Hash primitives ----------------------------------------------------

std::string Hex(const Hash& h) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

TEST(MerkleHashTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(Hex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleHashTest, LeafAndNodeUseDomainSeparationPrefixes) {
  // SHA-256 of the single byte 0x00 (the empty leaf) is a published constant.
  EXPECT_EQ(Hex(LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Hash a = LeafHash("a"), b = LeafHash("b");
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  // A node hash must never equal the leaf hash of the same 64 bytes.
  std::string concat(reinterpret_cast<const char*>(a.data()), 32);
  concat.append(reinterpret_cast<const char*>(b.data()), 32);
  EXPECT_NE(NodeHash(a, b), LeafHash(concat));
}

// ---- Roots ----------------------------------------------------------------

TEST(MerkleTreeTest, AppenderRootAndRootAtMatchNaiveForSizes0To300) {
  std::vector<Hash> leaves = Leaves(300);
  MemoryTree t;
  for (int n = 0; n <= 300; ++n) {
    Hash expected = NaiveMth(leaves, 0, n);
    ASSERT_EQ(t.Root(), expected) << "appender root at size " << n;
    auto root = RootAt(t.nodes(), n);
    ASSERT_TRUE(root.has_value()) << root.error().ToString();
    ASSERT_EQ(*root, expected) << "RootAt(" << n << ")";
    if (n < 300) t.AppendHash(leaves[n]);
  }
  // Historic roots stay computable after the tree has grown.
  for (int n = 0; n <= 300; ++n) {
    EXPECT_EQ(*RootAt(t.nodes(), n), NaiveMth(leaves, 0, n)) << n;
  }
}

TEST(MerkleTreeTest, AppendReturnsExactlyTheNodesThatBecameComplete) {
  TreeAppender a;
  std::vector<Hash> leaves = Leaves(8);
  auto w0 = a.Append(leaves[0]);
  ASSERT_EQ(w0.size(), 1u);
  EXPECT_EQ(w0[0].ref, (NodeRef{0, 0}));
  auto w1 = a.Append(leaves[1]);
  ASSERT_EQ(w1.size(), 2u);
  EXPECT_EQ(w1[1].ref, (NodeRef{1, 0}));
  EXPECT_EQ(w1[1].hash, NodeHash(leaves[0], leaves[1]));
  a.Append(leaves[2]);
  auto w3 = a.Append(leaves[3]);
  ASSERT_EQ(w3.size(), 3u);
  EXPECT_EQ(w3[0].ref, (NodeRef{0, 3}));
  EXPECT_EQ(w3[1].ref, (NodeRef{1, 1}));
  EXPECT_EQ(w3[2].ref, (NodeRef{2, 0}));
  EXPECT_EQ(w3[2].hash, NaiveMth(leaves, 0, 4));
}

TEST(MerkleTreeTest, RestoreContinuesExactlyWhereTheTreeLeftOff) {
  std::vector<Hash> leaves = Leaves(200);
  MemoryTree full = TreeOf(leaves);
  for (int n : {0, 1, 2, 3, 7, 8, 9, 64, 100, 127, 128, 129, 199}) {
    MemoryNodeReader nodes;
    TreeAppender first;
    for (int i = 0; i < n; ++i) nodes.Put(first.Append(leaves[i]));
    auto restored = TreeAppender::Restore(n, nodes);
    ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
    EXPECT_EQ(restored->size(), n);
    EXPECT_EQ(restored->Root(), NaiveMth(leaves, 0, n));
    for (int i = n; i < 200; ++i) {
      auto a = restored->Append(leaves[i]);
      auto b = first.Append(leaves[i]);
      ASSERT_EQ(a.size(), b.size());
      for (size_t j = 0; j < a.size(); ++j) {
        EXPECT_EQ(a[j].ref, b[j].ref);
        EXPECT_EQ(a[j].hash, b[j].hash);
      }
    }
    EXPECT_EQ(restored->Root(), full.Root()) << "restored at " << n;
  }
}

TEST(MerkleTreeTest, RestoreFailsWhenNodesAreMissing) {
  MemoryNodeReader empty;
  auto r = TreeAppender::Restore(5, empty);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "merkle_node_missing");
  EXPECT_FALSE(TreeAppender::Restore(-1, empty).has_value());
}

// Counts calls, to hold the "one Read per proof" promise.
class CountingReader : public NodeReader {
 public:
  explicit CountingReader(NodeReader& inner) : inner_(inner) {}
  Result<std::vector<Hash>> Read(const std::vector<NodeRef>& refs) override {
    ++calls;
    nodes += refs.size();
    return inner_.Read(refs);
  }
  int calls = 0;
  size_t nodes = 0;

 private:
  NodeReader& inner_;
};

// ---- Inclusion ---------------------------------------------------------

TEST(MerkleProofTest, InclusionMatchesNaiveForAllIndicesUpTo300) {
  std::vector<Hash> leaves = Leaves(300);
  MemoryTree t = TreeOf(leaves);
  for (int n = 1; n <= 300; ++n) {
    Hash root = NaiveMth(leaves, 0, n);
    for (int m = 0; m < n; ++m) {
      auto proof = InclusionProof(t.nodes(), m, n);
      ASSERT_TRUE(proof.has_value());
      ASSERT_EQ(*proof, NaivePath(leaves, m, 0, n)) << m << " in " << n;
      ASSERT_TRUE(VerifyInclusion(leaves[m], m, n, *proof, root)) << m << "/" << n;
    }
  }
}

TEST(MerkleProofTest, ConsistencyMatchesNaiveForAllPairsUpTo300) {
  std::vector<Hash> leaves = Leaves(300);
  MemoryTree t = TreeOf(leaves);
  std::vector<Hash> roots;
  for (int n = 0; n <= 300; ++n) roots.push_back(NaiveMth(leaves, 0, n));
  for (int n = 1; n <= 300; ++n) {
    for (int m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(t.nodes(), m, n);
      ASSERT_TRUE(proof.has_value());
      std::vector<Hash> expected =
          m == n ? std::vector<Hash>{} : NaiveSubproof(leaves, m, 0, n, true);
      ASSERT_EQ(*proof, expected) << m << " -> " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof))
          << m << " -> " << n;
    }
  }
}

TEST(MerkleProofTest, ProofsUseOneBatchedReadOfLogarithmicSize) {
  MemoryTree t;
  for (int i = 0; i < 10000; ++i) t.Append("x" + std::to_string(i));
  CountingReader reader(t.nodes());
  ASSERT_TRUE(InclusionProof(reader, 4321, 9999).has_value());
  EXPECT_EQ(reader.calls, 1);
  EXPECT_LE(reader.nodes, 2u * 14);
  reader.calls = 0;
  reader.nodes = 0;
  ASSERT_TRUE(ConsistencyProof(reader, 777, 9999).has_value());
  EXPECT_EQ(reader.calls, 1);
  EXPECT_LE(reader.nodes, 2u * 14 + 14);
  reader.calls = 0;
  ASSERT_TRUE(RootAt(reader, 9999).has_value());
  EXPECT_EQ(reader.calls, 1);
}

TEST(MerkleProofTest, RandomProofsUpTo10kVerifyAndFailWhenAnythingChanges) {
  std::mt19937_64 rng(20240305);
  MemoryTree t;
  for (int i = 0; i < 10000; ++i) t.Append("event " + std::to_string(i));
  for (int iter = 0; iter < 300; ++iter) {
    int64_t n = 1 + static_cast<int64_t>(rng() % 10000);
    int64_t m = static_cast<int64_t>(rng() % n);
    Hash root = *RootAt(t.nodes(), n);
    Hash leaf = LeafHash("event " + std::to_string(m));
    auto proof = InclusionProof(t.nodes(), m, n);
    ASSERT_TRUE(proof.has_value());
    ASSERT_TRUE(VerifyInclusion(leaf, m, n, *proof, root)) << m << "/" << n;
    if (n > 1) {
      EXPECT_FALSE(VerifyInclusion(leaf, (m + 1) % n, n, *proof, root));
    }
    // The size decides the proof's shape; one whose shape differs must fail.
    EXPECT_FALSE(VerifyInclusion(leaf, m, 2 * n + 1, *proof, root));
    if (!proof->empty()) {
      auto bad = *proof;
      bad[rng() % bad.size()][rng() % 32] ^= 1 << (rng() % 8);
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, bad, root));
    }

    int64_t old_size = 1 + static_cast<int64_t>(rng() % n);
    Hash old_root = *RootAt(t.nodes(), old_size);
    auto cp = ConsistencyProof(t.nodes(), old_size, n);
    ASSERT_TRUE(cp.has_value());
    ASSERT_TRUE(VerifyConsistency(old_size, n, old_root, root, *cp));
    if (!cp->empty()) {
      auto bad = *cp;
      bad[rng() % bad.size()][rng() % 32] ^= 1 << (rng() % 8);
      EXPECT_FALSE(VerifyConsistency(old_size, n, old_root, root, bad));
      EXPECT_FALSE(VerifyConsistency(old_size, n, root, old_root, *cp));
    }
  }
}

// ---- Hostile verifier inputs ---------------------------------------------

TEST(MerkleVerifyTest, InclusionRejectsHostileInput) {
  std::vector<Hash> leaves = Leaves(7);
  MemoryTree t = TreeOf(leaves);
  Hash root = t.Root();
  auto proof = *InclusionProof(t.nodes(), 2, 7);
  ASSERT_TRUE(VerifyInclusion(leaves[2], 2, 7, proof, root));

  EXPECT_FALSE(VerifyInclusion(leaves[2], 7, 7, proof, root));  // index == size
  EXPECT_FALSE(VerifyInclusion(leaves[2], 8, 7, proof, root));  // index > size
  EXPECT_FALSE(VerifyInclusion(leaves[2], -1, 7, proof, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 0, proof, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, -7, proof, root));
  // Sizes whose proof for this index has another shape. (Sizes with the same
  // shape verify against the same root: only the checkpoint binds the size.)
  auto proof6 = *InclusionProof(t.nodes(), 6, 7);
  ASSERT_TRUE(VerifyInclusion(leaves[6], 6, 7, proof6, root));
  EXPECT_FALSE(VerifyInclusion(leaves[6], 6, 8, proof6, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 3, proof, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 17, proof, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, INT64_MAX, proof, root));
  EXPECT_FALSE(VerifyInclusion(leaves[3], 2, 7, proof, root));  // other leaf
  auto longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 7, longer, root));
  auto shorter = proof;
  shorter.pop_back();
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 7, shorter, root));
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 7, {}, root));
  std::vector<Hash> garbage(1000, Hash{});
  EXPECT_FALSE(VerifyInclusion(leaves[2], 2, 7, garbage, root));
  // A single-leaf tree: the root is the leaf hash and the proof is empty.
  EXPECT_TRUE(VerifyInclusion(leaves[0], 0, 1, {}, leaves[0]));
  EXPECT_FALSE(VerifyInclusion(leaves[0], 0, 1, {leaves[0]}, leaves[0]));
}

TEST(MerkleVerifyTest, ConsistencyRejectsHostileInput) {
  std::vector<Hash> leaves = Leaves(8);
  MemoryTree t = TreeOf(leaves);
  Hash r3 = *RootAt(t.nodes(), 3), r8 = t.Root(), r4 = *RootAt(t.nodes(), 4);
  auto proof = *ConsistencyProof(t.nodes(), 3, 8);
  ASSERT_TRUE(VerifyConsistency(3, 8, r3, r8, proof));

  EXPECT_FALSE(VerifyConsistency(8, 3, r8, r3, proof));  // old > new
  EXPECT_FALSE(VerifyConsistency(-1, 8, r3, r8, proof));
  EXPECT_FALSE(VerifyConsistency(3, 4, r3, r8, proof));
  EXPECT_FALSE(VerifyConsistency(3, 16, r3, r8, proof));
  EXPECT_FALSE(VerifyConsistency(4, 8, r3, r8, proof));
  EXPECT_FALSE(VerifyConsistency(3, 8, r3, r8, {}));
  auto longer = proof;
  longer.push_back(r8);
  EXPECT_FALSE(VerifyConsistency(3, 8, r3, r8, longer));
  auto shorter = proof;
  shorter.pop_back();
  EXPECT_FALSE(VerifyConsistency(3, 8, r3, r8, shorter));
  std::vector<Hash> garbage(1000, Hash{});
  EXPECT_FALSE(VerifyConsistency(3, 8, r3, r8, garbage));
  // Equal sizes: roots must match and the proof must be empty.
  EXPECT_TRUE(VerifyConsistency(8, 8, r8, r8, {}));
  EXPECT_FALSE(VerifyConsistency(8, 8, r8, r4, {}));
  EXPECT_FALSE(VerifyConsistency(8, 8, r8, r8, {r8}));
  // From the empty tree: empty proof, and the old root must be the empty root.
  EXPECT_TRUE(VerifyConsistency(0, 8, EmptyRoot(), r8, {}));
  EXPECT_FALSE(VerifyConsistency(0, 8, r4, r8, {}));
  EXPECT_FALSE(VerifyConsistency(0, 8, EmptyRoot(), r8, {r8}));
  // Power-of-two old size: old root is implicit; a proof naming it is too long.
  auto p4 = *ConsistencyProof(t.nodes(), 4, 8);
  ASSERT_TRUE(VerifyConsistency(4, 8, r4, r8, p4));
  auto p4_with_root = p4;
  p4_with_root.insert(p4_with_root.begin(), r4);
  EXPECT_FALSE(VerifyConsistency(4, 8, r4, r8, p4_with_root));
}

TEST(MerkleProofTest, ProofRequestsOutOfRangeAreInvalidArgument) {
  MemoryTree t = TreeOf(Leaves(5));
  EXPECT_EQ(InclusionProof(t.nodes(), 5, 5).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(t.nodes(), -1, 5).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(t.nodes(), 0, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(t.nodes(), 4, 3).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(t.nodes(), -1, 3).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(RootAt(t.nodes(), -1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(ConsistencyProof(t.nodes(), 0, 5)->empty());
  EXPECT_TRUE(ConsistencyProof(t.nodes(), 5, 5)->empty());
  // Beyond what was written: the reader says which node is missing.
  auto r = InclusionProof(t.nodes(), 0, 6);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "merkle_node_missing");
  EXPECT_EQ(RootAt(t.nodes(), 6).error().reason, "merkle_node_missing");
}

}  // namespace
}  // namespace approvald::audit
