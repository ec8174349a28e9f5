#include "api/startup_audit.h"

#include <openssl/sha.h>

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "audit/encoding.h"
#include "audit/leaf.h"

namespace approvald::api {
namespace {

constexpr int kPage = 1000;

// Calls `fn` with every record of type `type` in the log, oldest first,
// decoded. Leaves that do not decode (which `audit verify` reports) are
// skipped: they cannot vouch for anything.
Status ForEachRecord(Store& store, std::string_view type,
                     const std::function<void(const AuditRecord&)>& fn) {
  AuditQuery q;
  q.type = std::string(type);
  q.limit = kPage;
  for (;;) {
    auto page = store.QueryAudit(q);
    if (!page) return std::unexpected(page.error());
    for (const AuditEntry& e : *page) {
      auto parsed = audit::ParseLeaf(e.leaf_data);
      if (parsed && parsed->record && parsed->record->type == type) fn(*parsed->record);
      q.after_index = e.index;
    }
    if (static_cast<int>(page->size()) < kPage) return Ok();
  }
}

const std::string* StrMember(const Value::Record& data, const std::string& key) {
  auto it = data.find(key);
  if (it == data.end()) return nullptr;
  return std::get_if<std::string>(&it->second.v);
}

std::string Sha256Hex(std::string_view text) {
  Hash h{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), h.data());
  return audit::HashHex(h);
}

}  // namespace

Result<int> AuditNewDefinitions(Store& store, Timestamp now) {
  std::set<std::string, std::less<>> audited;
  Status s = ForEachRecord(store, kDefinitionAddedType, [&](const AuditRecord& r) {
    if (const std::string* h = StrMember(r.data, "def_hash")) audited.insert(*h);
  });
  if (!s) return std::unexpected(s.error());
  auto defs = store.ListDefinitions();  // ordered by (id, version)
  if (!defs) return std::unexpected(defs.error());
  int appended = 0;
  for (const StoredDefinition& d : *defs) {
    if (audited.contains(d.hash)) continue;
    AuditRecord rec;
    rec.at = now;
    rec.type = std::string(kDefinitionAddedType);
    rec.actor = PersonId(std::string(kSystemActor));
    rec.subject = "workflow:" + d.id + "@" + std::to_string(d.version);
    rec.data["workflow"] = Value::Str(d.id);
    rec.data["version"] = Value::Int(d.version);
    rec.data["def_hash"] = Value::Str(d.hash);
    if (auto st = store.AppendAudit(rec); !st) return std::unexpected(st.error());
    audited.insert(d.hash);
    ++appended;
  }
  return appended;
}

Result<bool> AuditOrgIfChanged(Store& store, std::string_view org_text, const Org& org,
                               std::string_view file, Timestamp now) {
  std::optional<std::string> last;
  Status s = ForEachRecord(store, kOrgChangedType, [&](const AuditRecord& r) {
    const std::string* h = StrMember(r.data, "sha256");
    last = h ? *h : std::string();
  });
  if (!s) return std::unexpected(s.error());
  std::string hash = Sha256Hex(org_text);
  if (last == hash) return false;
  AuditRecord rec;
  rec.at = now;
  rec.type = std::string(kOrgChangedType);
  rec.actor = PersonId(std::string(kSystemActor));
  rec.subject = "org";
  rec.data["sha256"] = Value::Str(hash);
  rec.data["people"] = Value::Int(static_cast<int64_t>(org.people.size()));
  rec.data["departments"] = Value::Int(static_cast<int64_t>(org.departments.size()));
  rec.data["source"] = Value::Str("file");
  rec.data["file"] = Value::Str(std::string(file));
  if (auto st = store.AppendAudit(rec); !st) return std::unexpected(st.error());
  return true;
}

}  // namespace approvald::api
