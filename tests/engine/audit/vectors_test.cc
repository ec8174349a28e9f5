// The Merkle code against the published RFC 6962 test vectors of the
// transparency-dev project (testdata/rfc6962_vectors.txt names the sources).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "audit/encoding.h"
#include "audit/merkle.h"

namespace approvald::audit {
namespace {

struct InclusionCase {
  bool want_ok = false;
  int64_t index = 0, size = 0;
  std::string root, leaf_hash;  // raw bytes; may be the wrong length
  std::vector<std::string> proof;
  std::string source;
};

struct ConsistencyCase {
  bool want_ok = false;
  int64_t size1 = 0, size2 = 0;
  std::string root1, root2;
  std::vector<std::string> proof;
  std::string source;
};

struct Vectors {
  std::vector<std::string> leaves;
  std::map<int64_t, Hash> roots;
  std::vector<std::pair<NodeRef, Hash>> nodes;
  std::vector<std::tuple<int64_t, int64_t, std::vector<Hash>>> incl_proofs;
  std::vector<std::tuple<int64_t, int64_t, std::vector<Hash>>> cons_proofs;
  std::vector<InclusionCase> inclusion;
  std::vector<ConsistencyCase> consistency;
};

std::string Unquote(const std::string& token) {
  return token == "\"\"" ? std::string() : token;
}

std::string Hex(const std::string& token) {
  auto b = HexDecode(Unquote(token));
  EXPECT_TRUE(b.has_value()) << "bad hex " << token;
  return b.value_or("");
}

std::string B64(const std::string& token) {
  auto b = Base64Decode(Unquote(token));
  EXPECT_TRUE(b.has_value()) << "bad base64 " << token;
  return b.value_or("");
}

Hash HexHash(const std::string& token) {
  auto h = HashFromHex(token);
  EXPECT_TRUE(h.has_value()) << token;
  return h.value_or(Hash{});
}

Vectors Load() {
  Vectors v;
  std::ifstream in(std::string(APPROVAL_SOURCE_DIR) +
                   "/tests/engine/audit/testdata/rfc6962_vectors.txt");
  EXPECT_TRUE(in.good()) << "cannot open the vector file";
  std::string line;
  while (std::getline(in, line)) {
    std::string source;
    if (auto hash = line.find("  # "); hash != std::string::npos) {
      source = line.substr(hash + 4);
      line.resize(hash);
    }
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string kind;
    ss >> kind;
    auto list = [&ss]() {
      size_t n = 0;
      ss >> n;
      std::vector<std::string> out(n);
      for (auto& t : out) ss >> t;
      return out;
    };
    if (kind == "LEAF") {
      size_t i;
      std::string hex;
      ss >> i >> hex;
      v.leaves.resize(std::max(v.leaves.size(), i + 1));
      v.leaves[i] = Hex(hex);
    } else if (kind == "ROOT") {
      int64_t size;
      std::string hex;
      ss >> size >> hex;
      v.roots[size] = HexHash(hex);
    } else if (kind == "NODE") {
      NodeRef ref;
      std::string hex;
      ss >> ref.level >> ref.index >> hex;
      v.nodes.emplace_back(ref, HexHash(hex));
    } else if (kind == "INCL_PROOF" || kind == "CONS_PROOF") {
      int64_t a, b;
      ss >> a >> b;
      std::vector<Hash> proof;
      for (const auto& t : list()) proof.push_back(HexHash(t));
      (kind == "INCL_PROOF" ? v.incl_proofs : v.cons_proofs).emplace_back(a, b, proof);
    } else if (kind == "INCL") {
      InclusionCase c;
      std::string want, root, leaf;
      ss >> want >> c.index >> c.size >> root >> leaf;
      c.want_ok = want == "ok";
      c.root = B64(root);
      c.leaf_hash = B64(leaf);
      for (const auto& t : list()) c.proof.push_back(B64(t));
      c.source = source;
      v.inclusion.push_back(c);
    } else if (kind == "CONS") {
      ConsistencyCase c;
      std::string want, r1, r2;
      ss >> want >> c.size1 >> c.size2 >> r1 >> r2;
      c.want_ok = want == "ok";
      c.root1 = B64(r1);
      c.root2 = B64(r2);
      for (const auto& t : list()) c.proof.push_back(B64(t));
      c.source = source;
      v.consistency.push_back(c);
    } else {
      ADD_FAILURE() << "unknown line kind " << kind;
    }
    EXPECT_FALSE(ss.fail()) << "malformed line: " << line;
  }
  return v;
}

const Vectors& TheVectors() {
  static const Vectors v = Load();
  return v;
}

// A proof of hashes from raw byte strings, as a bundle parser would build
// it: any element that is not exactly 32 bytes makes the input invalid.
std::optional<std::vector<Hash>> ToHashes(const std::vector<std::string>& raw) {
  std::vector<Hash> out;
  for (const auto& r : raw) {
    auto h = HashFromBytes(r);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

MemoryTree ReferenceTree(size_t n) {
  MemoryTree t;
  for (size_t i = 0; i < n; ++i) t.Append(TheVectors().leaves[i]);
  return t;
}

TEST(Rfc6962VectorsTest, FileHasTheExpectedContent) {
  const Vectors& v = TheVectors();
  EXPECT_EQ(v.leaves.size(), 8u);
  EXPECT_EQ(v.roots.size(), 9u);
  EXPECT_EQ(v.nodes.size(), 15u);
  EXPECT_EQ(v.incl_proofs.size(), 5u);
  EXPECT_EQ(v.cons_proofs.size(), 5u);
  EXPECT_EQ(v.inclusion.size(), 22u);
  EXPECT_EQ(v.consistency.size(), 24u);
}

TEST(Rfc6962VectorsTest, EmptyRootAndLeafHashes) {
  const Vectors& v = TheVectors();
  EXPECT_EQ(EmptyRoot(), v.roots.at(0));
  for (const auto& [ref, hash] : v.nodes) {
    if (ref.level == 0) {
      EXPECT_EQ(LeafHash(v.leaves[ref.index]), hash) << "leaf " << ref.index;
    }
  }
}

TEST(Rfc6962VectorsTest, RootsOfEveryPrefixOfTheReferenceTree) {
  const Vectors& v = TheVectors();
  MemoryTree t;
  EXPECT_EQ(t.Root(), v.roots.at(0));
  for (size_t n = 1; n <= 8; ++n) {
    t.Append(v.leaves[n - 1]);
    EXPECT_EQ(t.Root(), v.roots.at(n)) << "appender root, size " << n;
  }
  for (size_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(*RootAt(t.nodes(), n), v.roots.at(n)) << "RootAt " << n;
  }
}

TEST(Rfc6962VectorsTest, PerfectNodesMatchNodeHashes) {
  MemoryTree t = ReferenceTree(8);
  for (const auto& [ref, hash] : TheVectors().nodes) {
    auto got = t.nodes().Read({ref});
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->front(), hash) << "node " << ref.level << "/" << ref.index;
  }
}

TEST(Rfc6962VectorsTest, GeneratedProofsMatchPublishedProofs) {
  const Vectors& v = TheVectors();
  MemoryTree t = ReferenceTree(8);
  for (const auto& [index, size, want] : v.incl_proofs) {
    auto got = InclusionProof(t.nodes(), index, size);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, want) << "inclusion " << index << " in " << size;
    EXPECT_TRUE(
        VerifyInclusion(LeafHash(v.leaves[index]), index, size, want, v.roots.at(size)));
  }
  for (const auto& [size1, size2, want] : v.cons_proofs) {
    auto got = ConsistencyProof(t.nodes(), size1, size2);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, want) << "consistency " << size1 << " -> " << size2;
    EXPECT_TRUE(
        VerifyConsistency(size1, size2, v.roots.at(size1), v.roots.at(size2), want));
  }
}

TEST(Rfc6962VectorsTest, InclusionCasesVerifyExactlyAsPublished) {
  int ok = 0, err = 0;
  for (const InclusionCase& c : TheVectors().inclusion) {
    auto root = HashFromBytes(c.root);
    auto leaf = HashFromBytes(c.leaf_hash);
    auto proof = ToHashes(c.proof);
    bool verified =
        root && leaf && proof && VerifyInclusion(*leaf, c.index, c.size, *proof, *root);
    EXPECT_EQ(verified, c.want_ok) << c.source;
    (c.want_ok ? ok : err)++;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(err, 17);
}

TEST(Rfc6962VectorsTest, ConsistencyCasesVerifyExactlyAsPublished) {
  int ok = 0, err = 0;
  for (const ConsistencyCase& c : TheVectors().consistency) {
    auto r1 = HashFromBytes(c.root1);
    auto r2 = HashFromBytes(c.root2);
    auto proof = ToHashes(c.proof);
    bool verified =
        r1 && r2 && proof && VerifyConsistency(c.size1, c.size2, *r1, *r2, *proof);
    EXPECT_EQ(verified, c.want_ok) << c.source;
    (c.want_ok ? ok : err)++;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(err, 19);
}

// The same corruptions the upstream suite derives, applied to every
// published happy path by the verifier itself (not only those read from
// files): whatever is changed, verification fails.
TEST(Rfc6962VectorsTest, EveryBitFlipOfEveryHappyPathFails) {
  for (const InclusionCase& c : TheVectors().inclusion) {
    if (!c.want_ok) continue;
    Hash root = *HashFromBytes(c.root), leaf = *HashFromBytes(c.leaf_hash);
    std::vector<Hash> proof = *ToHashes(c.proof);
    for (size_t i = 0; i < proof.size(); ++i) {
      for (int byte = 0; byte < 32; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
          auto bad = proof;
          bad[i][byte] ^= 1 << bit;
          ASSERT_FALSE(VerifyInclusion(leaf, c.index, c.size, bad, root))
              << c.source << " proof[" << i << "] byte " << byte;
        }
      }
    }
    for (int byte = 0; byte < 32; ++byte) {
      Hash bad_root = root, bad_leaf = leaf;
      bad_root[byte] ^= 0x80;
      bad_leaf[byte] ^= 0x01;
      EXPECT_FALSE(VerifyInclusion(leaf, c.index, c.size, proof, bad_root));
      EXPECT_FALSE(VerifyInclusion(bad_leaf, c.index, c.size, proof, root));
    }
  }
  for (const ConsistencyCase& c : TheVectors().consistency) {
    if (!c.want_ok) continue;
    Hash r1 = *HashFromBytes(c.root1), r2 = *HashFromBytes(c.root2);
    std::vector<Hash> proof = *ToHashes(c.proof);
    for (size_t i = 0; i < proof.size(); ++i) {
      for (int byte = 0; byte < 32; ++byte) {
        auto bad = proof;
        bad[i][byte] ^= 0x10;
        ASSERT_FALSE(VerifyConsistency(c.size1, c.size2, r1, r2, bad))
            << c.source << " proof[" << i << "]";
      }
    }
  }
}

}  // namespace
}  // namespace approvald::audit
