// RFC 6962 / RFC 9162 Merkle tree math. See merkle.h for the model.
//
// Every root and proof is assembled from the MTH of a handful of leaf ranges
// [begin, end). The ranges the RFC recursion visits are always aligned (begin
// is a multiple of a power of two >= end - begin), so the MTH of each one is
// the right fold of its decomposition into perfect subtrees, one per set bit
// of end - begin. We collect every perfect node all ranges need, read them in
// one NodeReader call, then fold.
#include "audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace approvald::audit {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// One SHA-256 implementation fetched once per process, and one digest context
// per thread, so hashing a leaf allocates nothing and does no provider lookup.
const EVP_MD* Sha256() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new()) {}
  ~Hasher() { EVP_MD_CTX_free(ctx_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  // Hashes the concatenation of `parts`. OpenSSL failures here mean a broken
  // installation (SHA-256 unavailable or out of memory); there is no sane
  // way to continue writing an audit log, so we abort loudly.
  template <class... Parts>
  Hash Digest(const Parts&... parts) {
    if (EVP_DigestInit_ex2(ctx_, Sha256(), nullptr) != 1) Fail();
    (Update(parts), ...);
    Hash out{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
      Fail();
    }
    return out;
  }

 private:
  void Update(std::string_view s) {
    if (EVP_DigestUpdate(ctx_, s.data(), s.size()) != 1) Fail();
  }
  void Update(const Hash& h) {
    if (EVP_DigestUpdate(ctx_, h.data(), h.size()) != 1) Fail();
  }
  void Update(uint8_t b) {
    if (EVP_DigestUpdate(ctx_, &b, 1) != 1) Fail();
  }
  [[noreturn]] static void Fail() {
    // No logging in this layer; std::abort with a message on stderr is the
    // honest answer to "the SHA-256 primitive failed".
    fputs("approvald: OpenSSL SHA-256 failed; aborting\n", stderr);
    std::abort();
  }

  EVP_MD_CTX* ctx_;
};

Hasher& ThreadHasher() {
  thread_local Hasher hasher;
  return hasher;
}

// Largest power of two strictly less than n. REQUIRES: n >= 2.
int64_t SplitPoint(int64_t n) {
  return int64_t{1} << (63 - std::countl_zero(static_cast<uint64_t>(n - 1)));
}

struct Range {
  int64_t begin;
  int64_t end;
};

// Appends the perfect subtrees covering [begin, end), left to right.
// REQUIRES: 0 <= begin < end, and the range is aligned (see file comment) —
// but the greedy rule below is correct for any range anyway.
void Decompose(Range r, std::vector<NodeRef>* out) {
  int64_t begin = r.begin;
  while (begin < r.end) {
    int level = begin == 0 ? 62 : std::countr_zero(static_cast<uint64_t>(begin));
    while (level > 0 && (int64_t{1} << level) > r.end - begin) --level;
    out->push_back(NodeRef{level, begin >> level});
    begin += int64_t{1} << level;
  }
}

// Reads every range's perfect nodes in one call and returns each range's MTH.
Result<std::vector<Hash>> RangeHashes(NodeReader& reader,
                                      const std::vector<Range>& ranges) {
  std::vector<NodeRef> refs;
  std::vector<size_t> counts;
  counts.reserve(ranges.size());
  for (const Range& r : ranges) {
    size_t before = refs.size();
    Decompose(r, &refs);
    counts.push_back(refs.size() - before);
  }
  std::vector<Hash> nodes;
  if (!refs.empty()) {
    auto read = reader.Read(refs);
    if (!read) return std::unexpected(read.error());
    if (read->size() != refs.size()) {
      return MakeError(ErrorCode::kInternal, "node_read_short",
                       "node reader returned " + std::to_string(read->size()) +
                           " hashes for " + std::to_string(refs.size()) +
                           " requested perfect nodes");
    }
    nodes = std::move(*read);
  }
  std::vector<Hash> out;
  out.reserve(ranges.size());
  size_t pos = 0;
  for (size_t count : counts) {
    // Right fold: MTH = N(p0, N(p1, ... N(p_{k-2}, p_{k-1}))).
    Hash h = nodes[pos + count - 1];
    for (size_t i = count - 1; i-- > 0;) h = NodeHash(nodes[pos + i], h);
    out.push_back(h);
    pos += count;
  }
  return out;
}

bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

Hash LeafHash(std::string_view data) { return ThreadHasher().Digest(kLeafPrefix, data); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return ThreadHasher().Digest(kNodePrefix, left, right);
}

Hash EmptyRoot() { return ThreadHasher().Digest(std::string_view()); }

// ---------------------------------------------------------------------------
// TreeAppender

Result<TreeAppender> TreeAppender::Restore(int64_t size, NodeReader& reader) {
  if (size < 0) {
    return InvalidArgument("bad_tree_size", "cannot restore a tree of negative size " +
                                                std::to_string(size));
  }
  TreeAppender t;
  t.size_ = size;
  if (size == 0) return t;
  std::vector<NodeRef> refs;
  Decompose(Range{0, size}, &refs);
  auto read = reader.Read(refs);
  if (!read) return std::unexpected(read.error());
  if (read->size() != refs.size()) {
    return MakeError(ErrorCode::kInternal, "node_read_short",
                     "node reader returned too few hashes restoring a tree of " +
                         std::to_string(size) + " leaves");
  }
  t.range_ = std::move(*read);
  return t;
}

std::vector<NodeWrite> TreeAppender::Append(const Hash& leaf_hash) {
  std::vector<NodeWrite> writes;
  Append(leaf_hash, &writes);
  return writes;
}

void TreeAppender::Append(const Hash& leaf_hash, std::vector<NodeWrite>* writes) {
  writes->clear();
  int level = 0;
  int64_t index = size_;
  Hash h = leaf_hash;
  writes->push_back(NodeWrite{NodeRef{0, index}, h});
  // Each trailing 1 bit of the old size is a perfect subtree on the right
  // edge that the new node completes into one twice its size.
  while ((size_ >> level) & 1) {
    h = NodeHash(range_.back(), h);
    range_.pop_back();
    ++level;
    index >>= 1;
    writes->push_back(NodeWrite{NodeRef{level, index}, h});
  }
  range_.push_back(h);
  ++size_;
}

Hash TreeAppender::Root() const {
  if (range_.empty()) return EmptyRoot();
  Hash h = range_.back();
  for (size_t i = range_.size() - 1; i-- > 0;) h = NodeHash(range_[i], h);
  return h;
}

// ---------------------------------------------------------------------------
// Roots and proofs from storage

Result<Hash> RootAt(NodeReader& reader, int64_t size) {
  if (size < 0) {
    return InvalidArgument("bad_tree_size",
                           "tree size must be >= 0, got " + std::to_string(size));
  }
  if (size == 0) return EmptyRoot();
  auto hashes = RangeHashes(reader, {Range{0, size}});
  if (!hashes) return std::unexpected(hashes.error());
  return hashes->front();
}

Result<std::vector<Hash>> InclusionProof(NodeReader& reader, int64_t index,
                                         int64_t size) {
  if (size <= 0 || index < 0 || index >= size) {
    return InvalidArgument("bad_proof_request",
                           "inclusion proof needs 0 <= index < size, got index " +
                               std::to_string(index) + " and size " +
                               std::to_string(size));
  }
  // RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), unrolled from the root down.
  std::vector<Range> ranges;
  int64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    int64_t k = SplitPoint(hi - lo);
    if (index - lo < k) {
      ranges.push_back(Range{lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back(Range{lo, lo + k});
      lo += k;
    }
  }
  std::reverse(ranges.begin(), ranges.end());  // the proof runs leaf to root
  return RangeHashes(reader, ranges);
}

Result<std::vector<Hash>> ConsistencyProof(NodeReader& reader, int64_t old_size,
                                           int64_t new_size) {
  if (old_size < 0 || new_size < old_size) {
    return InvalidArgument("bad_proof_request",
                           "consistency proof needs 0 <= old_size <= new_size, got " +
                               std::to_string(old_size) + " and " +
                               std::to_string(new_size));
  }
  // Every tree extends the empty one, and a tree extends itself: both proofs
  // are empty (as in RFC 9162 and transparency-dev).
  if (old_size == 0 || old_size == new_size) return std::vector<Hash>{};
  // RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b), unrolled from the root down.
  std::vector<Range> ranges;
  int64_t lo = 0, hi = new_size;
  bool whole = true;  // b: the old tree is D[lo:hi]'s complete prefix so far
  while (hi != old_size) {
    int64_t k = SplitPoint(hi - lo);
    if (old_size - lo <= k) {
      ranges.push_back(Range{lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back(Range{lo, lo + k});
      lo += k;
      whole = false;
    }
  }
  if (!whole) ranges.push_back(Range{lo, hi});
  std::reverse(ranges.begin(), ranges.end());
  return RangeHashes(reader, ranges);
}

// ---------------------------------------------------------------------------
// Verifiers

bool VerifyInclusion(const Hash& leaf_hash, int64_t index, int64_t size,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index < 0 || size <= 0 || index >= size) return false;
  if (proof.size() > 64) return false;
  uint64_t fn = static_cast<uint64_t>(index);
  uint64_t sn = static_cast<uint64_t>(size) - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(int64_t old_size, int64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size < 0 || new_size < old_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty() || proof.size() > 128) return false;

  // RFC 9162 §2.1.4.2. When the old tree is a perfect subtree its root is
  // implicitly the first element of the path.
  size_t next = 0;
  Hash fr, sr;
  if (IsPowerOfTwo(old_size)) {
    fr = sr = old_root;
  } else {
    fr = sr = proof[0];
    next = 1;
  }
  uint64_t fn = static_cast<uint64_t>(old_size) - 1;
  uint64_t sn = static_cast<uint64_t>(new_size) - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

// ---------------------------------------------------------------------------
// MemoryNodeReader

void MemoryNodeReader::Put(const NodeWrite& w) {
  if (w.ref.level < 0 || w.ref.level > 62 || w.ref.index < 0) return;
  size_t level = static_cast<size_t>(w.ref.level);
  size_t index = static_cast<size_t>(w.ref.index);
  if (levels_.size() <= level) {
    levels_.resize(level + 1);
    present_.resize(level + 1);
  }
  if (levels_[level].size() <= index) {
    levels_[level].resize(index + 1);
    present_[level].resize(index + 1, false);
  }
  levels_[level][index] = w.hash;
  present_[level][index] = true;
}

void MemoryNodeReader::Put(const std::vector<NodeWrite>& writes) {
  for (const NodeWrite& w : writes) Put(w);
}

bool MemoryNodeReader::Has(NodeRef ref) const {
  return ref.level >= 0 && ref.index >= 0 &&
         static_cast<size_t>(ref.level) < present_.size() &&
         static_cast<size_t>(ref.index) < present_[ref.level].size() &&
         present_[ref.level][ref.index];
}

Result<std::vector<Hash>> MemoryNodeReader::Read(const std::vector<NodeRef>& refs) {
  std::vector<Hash> out;
  out.reserve(refs.size());
  for (const NodeRef& ref : refs) {
    if (!Has(ref)) {
      return NotFound("merkle_node_missing",
                      "perfect node (level " + std::to_string(ref.level) + ", index " +
                          std::to_string(ref.index) + ") has not been written");
    }
    out.push_back(levels_[ref.level][ref.index]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// MemoryTree

std::vector<NodeWrite> MemoryTree::Append(std::string_view leaf_data) {
  return AppendHash(LeafHash(leaf_data));
}

std::vector<NodeWrite> MemoryTree::AppendHash(const Hash& leaf_hash) {
  std::vector<NodeWrite> writes = appender_.Append(leaf_hash);
  nodes_.Put(writes);
  return writes;
}

}  // namespace approvald::audit
