// RFC 6962 / RFC 9162 Merkle tree math for the audit log.
//
//   leaf hash  = SHA-256(0x00 || data)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256("")
//
// Storage is abstract: a *perfect node* (level, index) is the root of the
// complete subtree over leaves [index << level, (index + 1) << level); level 0
// nodes are the leaf hashes. Stores persist perfect nodes as the tree grows
// (TreeAppender says which) and answer reads through NodeReader; roots and
// proofs for any size are computed from O(log n) of them.
#ifndef APPROVALD_AUDIT_MERKLE_H_
#define APPROVALD_AUDIT_MERKLE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "approvald/status.h"
#include "approvald/store.h"  // Hash

namespace approvald::audit {

Hash LeafHash(std::string_view data);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

struct NodeRef {
  int level = 0;
  int64_t index = 0;
  friend bool operator==(const NodeRef&, const NodeRef&) = default;
};

struct NodeWrite {
  NodeRef ref;
  Hash hash{};
};

// Reads perfect nodes. Implementations: in memory, SQLite table, ...
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // REQUIRES: every ref names a perfect node that has been written.
  virtual Result<std::vector<Hash>> Read(const std::vector<NodeRef>& refs) = 0;
};

// Appends leaves to a tree, yielding the perfect nodes to persist. Holds the
// compact range (the O(log n) right-edge perfect roots), so appends are
// O(1) amortised and need no reads.
class TreeAppender {
 public:
  TreeAppender() = default;
  // Restores the state for a tree of `size` leaves from storage.
  static Result<TreeAppender> Restore(int64_t size, NodeReader& reader);

  // Adds one leaf hash; returns the perfect nodes that became complete,
  // including the leaf itself (level 0).
  std::vector<NodeWrite> Append(const Hash& leaf_hash);
  // The same, writing the completed nodes into `*writes` (cleared first) so
  // a caller appending millions of leaves reuses one buffer.
  void Append(const Hash& leaf_hash, std::vector<NodeWrite>* writes);
  int64_t size() const { return size_; }
  Hash Root() const;

 private:
  int64_t size_ = 0;
  std::vector<Hash> range_;  // perfect roots of the compact range, left to right
};

// Roots and proofs for any tree size, assembled from the O(log n) perfect
// nodes they need, requested from `reader` in ONE Read call each. The nodes
// must have been written (a reader's error, e.g. "merkle_node_missing", is
// returned as is).
//
// RootAt: MTH of the first `size` leaves; EmptyRoot() for 0.
//   kInvalidArgument ("bad_tree_size") if size < 0.
// InclusionProof: RFC 9162 PATH(index, D[0:size]), leaf to root.
//   kInvalidArgument ("bad_proof_request") unless 0 <= index < size.
// ConsistencyProof: RFC 9162 PROOF(old_size, D[0:new_size]); empty when
//   old_size is 0 or equal to new_size. kInvalidArgument
//   ("bad_proof_request") unless 0 <= old_size <= new_size.
Result<Hash> RootAt(NodeReader& reader, int64_t size);
Result<std::vector<Hash>> InclusionProof(NodeReader& reader, int64_t index, int64_t size);
Result<std::vector<Hash>> ConsistencyProof(NodeReader& reader, int64_t old_size,
                                           int64_t new_size);

// Verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2). Return false on any mismatch
// and on any hostile input (negative or inconsistent sizes, index >= size,
// proofs too long or too short); never crash. VerifyConsistency accepts
// old_size == new_size only with an empty proof and equal roots, and
// old_size == 0 only with an empty proof and old_root == EmptyRoot().
bool VerifyInclusion(const Hash& leaf_hash, int64_t index, int64_t size,
                     const std::vector<Hash>& proof, const Hash& root);
bool VerifyConsistency(int64_t old_size, int64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof);

// An in-memory perfect-node store: one vector of hashes per level. For the
// memory Store, tests and benchmarks. Not thread-safe: callers serialise
// Put() against Read() (MemoryStore holds its own mutex).
class MemoryNodeReader : public NodeReader {
 public:
  // Stores one node / the nodes an append produced. Writing a node again
  // overwrites it. Refs with a negative level or index are ignored.
  void Put(const NodeWrite& w);
  void Put(const std::vector<NodeWrite>& writes);
  bool Has(NodeRef ref) const;

  // Fails kNotFound ("merkle_node_missing") naming the first ref that was
  // never written.
  Result<std::vector<Hash>> Read(const std::vector<NodeRef>& refs) override;

 private:
  std::vector<std::vector<Hash>> levels_;
  std::vector<std::vector<bool>> present_;
};

// A TreeAppender and the MemoryNodeReader it feeds, for callers that keep
// the whole tree in memory (tests, benchmarks, offline verification).
class MemoryTree {
 public:
  // Appends one leaf (hashing `leaf_data` with LeafHash) / one leaf hash;
  // returns the perfect nodes written.
  std::vector<NodeWrite> Append(std::string_view leaf_data);
  std::vector<NodeWrite> AppendHash(const Hash& leaf_hash);

  int64_t size() const { return appender_.size(); }
  Hash Root() const { return appender_.Root(); }
  // Nodes of every size up to size(): pass to RootAt / InclusionProof / ...
  MemoryNodeReader& nodes() { return nodes_; }

 private:
  TreeAppender appender_;
  MemoryNodeReader nodes_;
};

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_MERKLE_H_
