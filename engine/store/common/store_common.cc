#include "store/common/store_common.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <string>

#include "audit/leaf.h"
#include "audit/merkle.h"

namespace approvald::store_internal {
namespace {

std::string Num(int64_t n) { return std::to_string(n); }

constexpr char kHexDigits[] = "0123456789abcdef";

std::string Hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[p[i] >> 4]);
    out.push_back(kHexDigits[p[i] & 0xf]);
  }
  return out;
}

}  // namespace

Status ValidateAppend(const AppendRequest& req) {
  auto bad = [](std::string msg) {
    return InvalidArgument("bad_append", std::move(msg));
  };
  if (req.events.empty()) return bad("an append needs at least one event");
  if (req.expected_version < 0)
    return bad("expected_version " + Num(req.expected_version) + " is negative");
  if (req.instance.value < 0)
    return bad("instance id " + Num(req.instance.value) + " is negative");
  if (req.instance.value == 0 && req.expected_version != 0)
    return bad(
        "a new instance (instance 0) must be appended at "
        "expected_version 0, not " +
        Num(req.expected_version));
  for (size_t i = 0; i < req.events.size(); ++i) {
    const Event& e = req.events[i];
    int64_t want = req.expected_version + 1 + static_cast<int64_t>(i);
    if (e.version != want)
      return bad("event " + Num(static_cast<int64_t>(i)) + " (" + e.type +
                 ") has version " + Num(e.version) + ", expected " + Num(want) +
                 " (events must continue expected_version " + Num(req.expected_version) +
                 " without gaps)");
    if (e.instance.value != 0 && e.instance != req.instance)
      return bad("event " + Num(static_cast<int64_t>(i)) + " (" + e.type +
                 ") names instance " + Num(e.instance.value) +
                 " but the append is for instance " + Num(req.instance.value));
  }
  return Ok();
}

void StampInstance(AppendRequest& req, InstanceId id) {
  req.instance = id;
  for (Event& e : req.events) e.instance = id;
  req.row.id = id;
  req.row.version = req.events.back().version;
  for (TaskRow& t : req.tasks) t.instance = id;
}

std::unexpected<Error> VersionConflict(InstanceId id, int64_t expected, int64_t actual) {
  return MakeError(ErrorCode::kConflict, "version_conflict",
                   "instance " + Num(id.value) + " is at version " + Num(actual) +
                       ", not the expected " + Num(expected) +
                       ": someone else acted first; reload and retry");
}

std::unexpected<Error> IdempotencyMismatch(const AppendRequest& req) {
  return MakeError(ErrorCode::kConflict, "idempotency_mismatch",
                   "idempotency key \"" + req.idempotency_key + "\" of \"" +
                       req.idempotency_owner +
                       "\" was already used for a different request; use a "
                       "new key for a new request");
}

std::unexpected<Error> InstanceNotFound(InstanceId id) {
  return NotFound("instance_not_found", "instance " + Num(id.value) + " does not exist");
}

std::unexpected<Error> DuplicateFact(const FactRow& fact, InstanceId holder) {
  return MakeError(ErrorCode::kRejected, "duplicate_" + fact.kind,
                   fact.kind + " '" + fact.key + "' is already claimed by instance " +
                       Num(holder.value) + "; nothing was stored");
}

Status ValidateLimit(int limit, std::string_view what) {
  if (limit < 1 || limit > kMaxLimit)
    return InvalidArgument("bad_limit", std::string(what) + ": limit " + Num(limit) +
                                            " is outside 1.." + Num(kMaxLimit));
  return Ok();
}

AuditEntry EventEntry(const Event& e, const std::string& def_hash) {
  return EventEntry(e, EncodeEvent(e), def_hash);
}

AuditEntry EventEntry(const Event& e, std::string_view encoded_event,
                      const std::string& def_hash) {
  AuditEntry a;
  a.at = e.at;
  a.kind = "event";
  a.instance = e.instance;
  a.version = e.version;
  a.type = e.type;
  a.actor = e.actor;
  a.def_hash = def_hash;
  a.leaf_data = audit::EventLeafDataOfEncoded(encoded_event, def_hash);
  a.leaf_hash = audit::LeafHash(a.leaf_data);
  return a;
}

AuditEntry RecordEntry(const AuditRecord& rec) {
  AuditEntry a;
  a.at = rec.at;
  a.kind = "record";
  a.type = rec.type;
  a.actor = rec.actor;
  a.leaf_data = audit::RecordLeafData(rec);
  a.leaf_hash = audit::LeafHash(a.leaf_data);
  return a;
}

bool MatchesAuditQuery(const AuditQuery& q, const AuditEntry& e) {
  if (q.instance && (e.kind != "event" || e.instance != *q.instance)) return false;
  if (q.actor && e.actor != *q.actor) return false;
  if (q.type && e.type != *q.type) return false;
  if (q.from && e.at < *q.from) return false;
  if (q.to && !(e.at < *q.to)) return false;
  return true;
}

std::string Sha256Address(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails if SHA-256 is missing from the OpenSSL build or
  // memory is exhausted; neither leaves a sane way to address content.
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1 ||
      len != 32)
    std::abort();
  return "sha256:" + Hex(md, len);
}

Status ValidateAttachmentAddress(const std::string& address) {
  constexpr std::string_view kPrefix = "sha256:";
  bool ok = address.size() == kPrefix.size() + 64 &&
            std::string_view(address).substr(0, kPrefix.size()) == kPrefix;
  for (size_t i = kPrefix.size(); ok && i < address.size(); ++i) {
    char c = address[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok)
    return InvalidArgument("bad_attachment_hash",
                           "\"" + address.substr(0, 80) +
                               "\" is not an attachment address; expected "
                               "\"sha256:\" followed by 64 lowercase hex "
                               "digits");
  return Ok();
}

Status CheckAttachmentSize(size_t size, int64_t max_size) {
  if (max_size < 0 || size > static_cast<uint64_t>(max_size))
    return InvalidArgument("attachment_too_large",
                           "the attachment has " + Num(static_cast<int64_t>(size)) +
                               " bytes; at most " + Num(max_size) + " are accepted");
  return Ok();
}

Status ValidateCheckpoint(const Checkpoint& cp, int64_t log_size,
                          const std::optional<Checkpoint>& latest,
                          const Hash& root_at_size) {
  if (cp.size < 0 || cp.size > log_size)
    return InvalidArgument("bad_checkpoint", "checkpoint size " + Num(cp.size) +
                                                 " is outside the audit log's 0.." +
                                                 Num(log_size) + " leaves");
  if (latest && cp.size < latest->size)
    return InvalidArgument("bad_checkpoint",
                           "checkpoint size " + Num(cp.size) +
                               " is smaller than the latest checkpoint's " +
                               Num(latest->size) + "; checkpoints never go backwards");
  if (cp.root != root_at_size)
    return InvalidArgument("bad_checkpoint", "checkpoint root " + HexOf(cp.root) +
                                                 " is not the audit log's root " +
                                                 HexOf(root_at_size) + " at size " +
                                                 Num(cp.size));
  return Ok();
}

Status ValidateRootAt(int64_t size, int64_t log_size) {
  if (size < 0 || size > log_size)
    return InvalidArgument("bad_tree_size", "tree size " + Num(size) +
                                                " is outside the audit log's 0.." +
                                                Num(log_size) + " leaves");
  return Ok();
}

Status ValidateInclusion(int64_t index, int64_t size, int64_t log_size) {
  if (auto s = ValidateRootAt(size, log_size); !s) return s;
  if (index < 0 || index >= size)
    return InvalidArgument(
        "bad_tree_size",
        "leaf index " + Num(index) + " is not in a tree of " + Num(size) + " leaves");
  return Ok();
}

Status ValidateConsistency(int64_t old_size, int64_t new_size, int64_t log_size) {
  if (auto s = ValidateRootAt(new_size, log_size); !s) return s;
  if (old_size < 0 || old_size > new_size)
    return InvalidArgument("bad_tree_size", "old tree size " + Num(old_size) +
                                                " is outside 0.." + Num(new_size));
  return Ok();
}

std::string HexOf(const Hash& h) { return Hex(h.data(), h.size()); }

}  // namespace approvald::store_internal
