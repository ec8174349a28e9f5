// Export bundles (bundle.h). JSON via Boost.JSON, used only in this file.
#include "audit/bundle.h"

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "audit/encoding.h"
#include "audit/leaf.h"
#include "audit/merkle.h"

namespace approvald::audit {
namespace json = boost::json;
namespace {

Timestamp LeafTime(const ParsedLeaf& leaf) {
  return leaf.event ? leaf.event->at : leaf.record->at;
}

bool InPeriod(Timestamp t, Timestamp from, Timestamp to) { return t >= from && t < to; }

std::unexpected<Error> WriteError(const std::string& path) {
  return Unavailable("bundle_write",
                     "cannot write bundle " + path + ": " + std::strerror(errno));
}

// Exactly these keys, each of the given kind.
bool HasExactly(const json::object& o,
                std::initializer_list<std::pair<const char*, json::kind>> keys) {
  if (o.size() != keys.size()) return false;
  for (const auto& [name, kind] : keys) {
    const json::value* v = o.if_contains(name);
    if (!v) return false;
    if (kind == json::kind::int64) {
      if (!v->is_int64() && !(v->is_uint64() && v->get_uint64() <= INT64_MAX)) {
        return false;
      }
    } else if (v->kind() != kind) {
      return false;
    }
  }
  return true;
}

int64_t IntOf(const json::value& v) {
  return v.is_int64() ? v.get_int64() : static_cast<int64_t>(v.get_uint64());
}

std::string_view StrOf(const json::value& v) {
  const json::string& s = v.get_string();
  return std::string_view(s.data(), s.size());
}

}  // namespace

// ---------------------------------------------------------------------------
// Export

Result<ExportSummary> ExportBundle(Store& store, const LogKey& key, Timestamp from,
                                   Timestamp to, const std::string& out_path) {
  if (!(from < to)) {
    return InvalidArgument("bad_period", "the export period must have from < to, got " +
                                             FormatTimestampUtc(from) + " .. " +
                                             FormatTimestampUtc(to));
  }
  auto latest = store.LatestCheckpoint();
  if (!latest) return std::unexpected(latest.error());
  if (!latest->has_value()) {
    return Unavailable("no_covering_checkpoint",
                       "the log has no signed checkpoint yet; start the "
                       "daemon until it signs one, then export again");
  }
  ExportSummary summary;
  summary.checkpoint = **latest;
  const Checkpoint& cp = summary.checkpoint;
  if (!VerifyCheckpoint(key, cp)) {
    return MakeError(ErrorCode::kInternal, "checkpoint_signature",
                     "the latest stored checkpoint (size " + std::to_string(cp.size) +
                         ") does not verify under " + VerifierKey(key) +
                         "; run `approvald audit verify` first");
  }

  // The range: first to last leaf whose time lies in the period.
  int64_t first = -1, last = -1;
  Status scan = store.ScanAudit(0, [&](const AuditEntry& e) {
    if (InPeriod(e.at, from, to)) {
      if (first < 0) first = e.index;
      last = e.index;
    }
    return true;
  });
  if (!scan) return std::unexpected(scan.error());
  if (first >= 0 && last >= cp.size) {
    return Unavailable("no_covering_checkpoint",
                       "the latest checkpoint covers leaves 0.." +
                           std::to_string(cp.size - 1) + " but the period reaches leaf " +
                           std::to_string(last) +
                           "; wait for the next checkpoint or end the period earlier");
  }
  summary.first_index = first >= 0 ? first : 0;
  summary.count = first >= 0 ? last - first + 1 : 0;

  const std::string tmp_path = out_path + ".tmp";
  std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
  if (!out) return WriteError(tmp_path);

  json::object header;
  header["format"] = kBundleFormat;
  header["version"] = kBundleVersion;
  header["origin"] = key.origin;
  header["verifier_key"] = VerifierKey(key);
  header["public_key"] = key.key.Base64();
  header["public_key_pem"] = key.key.Pem();
  header["from"] = FormatTimestampUtc(from);
  header["to"] = FormatTimestampUtc(to);
  header["from_ms"] = from.ms;
  header["to_ms"] = to.ms;
  header["checkpoint"] = FormatSignedCheckpoint(key, cp);
  header["first_index"] = summary.first_index;
  header["count"] = summary.count;
  out << json::serialize(header) << '\n';

  std::optional<Error> error;
  int64_t expected = summary.first_index;
  if (summary.count > 0) {
    scan = store.ScanAudit(summary.first_index, [&](const AuditEntry& e) {
      if (e.index > last) return false;
      auto fail = [&](std::string reason, std::string what) {
        error = MakeError(ErrorCode::kInternal, std::move(reason),
                          "leaf " + std::to_string(e.index) + ": " + what +
                              "; run `approvald audit verify`")
                    .error();
        return false;
      };
      if (e.index != expected) return fail("leaf_missing", "out of sequence");
      Hash leaf_hash = LeafHash(e.leaf_data);
      if (leaf_hash != e.leaf_hash) {
        return fail("leaf_hash_mismatch", "data does not match its hash");
      }
      auto parsed = ParseLeaf(e.leaf_data);
      if (!parsed) return fail("leaf_malformed", "not a canonical leaf");
      auto proof = store.InclusionProof(e.index, cp.size);
      if (!proof) {
        error = proof.error();
        return false;
      }
      if (!VerifyInclusion(leaf_hash, e.index, cp.size, *proof, cp.root)) {
        return fail("inclusion_failed",
                    "its proof does not lead to the checkpoint's root");
      }
      if (InPeriod(LeafTime(*parsed), from, to)) ++summary.in_period;
      json::object line;
      line["index"] = e.index;
      line["leaf"] = e.leaf_data;
      json::array hashes;
      hashes.reserve(proof->size());
      for (const Hash& h : *proof) hashes.emplace_back(Base64Encode(HashBytes(h)));
      line["proof"] = std::move(hashes);
      out << json::serialize(line) << '\n';
      ++expected;
      return true;
    });
    if (!error && !scan) error = scan.error();
    if (!error && expected != last + 1) {
      error = MakeError(ErrorCode::kInternal, "leaf_missing",
                        "leaves " + std::to_string(expected) + ".." +
                            std::to_string(last) + " could not be read")
                  .error();
    }
  }
  out.flush();
  if (!error && !out) error = WriteError(tmp_path).error();
  out.close();
  if (error) {
    std::remove(tmp_path.c_str());
    return std::unexpected(*error);
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, out_path, ec);
  if (ec) {
    std::remove(tmp_path.c_str());
    return Unavailable("bundle_write", "cannot move the bundle into place at " +
                                           out_path + ": " + ec.message());
  }
  return summary;
}

// ---------------------------------------------------------------------------
// Verification

std::string BundleReport::Summary() const {
  if (!ok) return "FAILED [" + failure_code + "] " + failure;
  return "ok: " + std::to_string(entries) + " leaves (" + std::to_string(first_index) +
         ".." + std::to_string(first_index + entries - 1) + "), " +
         std::to_string(in_period) + " in " + FormatTimestampUtc(from) + " .. " +
         FormatTimestampUtc(to) + " (" + std::to_string(events) + " events, " +
         std::to_string(records) +
         " records), all included in the checkpoint "
         "of size " +
         std::to_string(checkpoint.size) + " signed by " + verifier_key;
}

Result<BundleReport> VerifyBundle(const std::string& path, const LogKey* trusted) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("bundle_missing",
                    "cannot open bundle " + path + ": " + std::strerror(errno));
  }
  BundleReport report;
  auto fail = [&](const char* code, std::string message) {
    report.ok = false;
    report.failure_code = code;
    report.failure = std::move(message);
    return report;
  };

  std::string line;
  if (!std::getline(in, line) || in.eof()) {
    return fail("bad_bundle", "line 1: no header line");
  }
  std::error_code ec;
  json::value header_value = json::parse(line, ec);
  if (ec || !header_value.is_object()) {
    return fail("bad_bundle", "line 1 is not a JSON object");
  }
  const json::object& h = header_value.get_object();
  using K = json::kind;
  if (!HasExactly(h, {{"format", K::string},
                      {"version", K::int64},
                      {"origin", K::string},
                      {"verifier_key", K::string},
                      {"public_key", K::string},
                      {"public_key_pem", K::string},
                      {"from", K::string},
                      {"to", K::string},
                      {"from_ms", K::int64},
                      {"to_ms", K::int64},
                      {"checkpoint", K::string},
                      {"first_index", K::int64},
                      {"count", K::int64}})) {
    return fail("bad_bundle",
                "line 1 does not have exactly the header members of an "
                "approvald audit bundle");
  }
  if (StrOf(h.at("format")) != kBundleFormat ||
      IntOf(h.at("version")) != kBundleVersion) {
    return fail("bad_bundle", "line 1: not an approvald-audit-bundle version 1");
  }
  report.origin = std::string(StrOf(h.at("origin")));
  auto vkey = ParseVerifierKey(StrOf(h.at("verifier_key")));
  if (!vkey) return fail("bad_bundle", "line 1: " + vkey.error().message);
  auto raw_key = PublicKey::FromBase64(StrOf(h.at("public_key")));
  auto pem_key = PublicKey::FromPem(StrOf(h.at("public_key_pem")));
  if (vkey->origin != report.origin || !raw_key || !pem_key || !(*raw_key == vkey->key) ||
      !(*pem_key == vkey->key)) {
    return fail("bad_bundle",
                "line 1: origin, verifier_key, public_key and public_key_pem "
                "do not all name the same log key");
  }
  LogKey key = *vkey;
  report.verifier_key = VerifierKey(key);
  if (trusted && (trusted->origin != key.origin || !(trusted->key == key.key))) {
    return fail("untrusted_key", "the bundle is signed by " + report.verifier_key +
                                     ", not by the trusted " + VerifierKey(*trusted));
  }
  report.from = Timestamp{IntOf(h.at("from_ms"))};
  report.to = Timestamp{IntOf(h.at("to_ms"))};
  if (FormatTimestampUtc(report.from) != StrOf(h.at("from")) ||
      FormatTimestampUtc(report.to) != StrOf(h.at("to")) || !(report.from < report.to)) {
    return fail("bad_bundle", "line 1: the period's from/to do not agree");
  }
  auto cp = ParseSignedCheckpoint(StrOf(h.at("checkpoint")), key);
  if (!cp) {
    return fail(cp.error().reason == "checkpoint_signature" ? "checkpoint_signature"
                                                            : "bad_checkpoint",
                "line 1: " + cp.error().message);
  }
  report.checkpoint = *cp;
  report.first_index = IntOf(h.at("first_index"));
  const int64_t count = IntOf(h.at("count"));
  if (report.first_index < 0 || count < 0 ||
      (count > 0 && report.first_index > cp->size - count)) {
    return fail("bad_bundle", "line 1: leaves " + std::to_string(report.first_index) +
                                  " +" + std::to_string(count) +
                                  " are not within the checkpoint's " +
                                  std::to_string(cp->size));
  }

  for (int64_t k = 0; k < count; ++k) {
    const std::string where = "line " + std::to_string(k + 2);
    if (!std::getline(in, line) || in.eof()) {
      return fail("bad_entry", where + ": missing; the bundle holds fewer than " +
                                   std::to_string(count) + " leaves");
    }
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object() ||
        !HasExactly(v.get_object(),
                    {{"index", K::int64}, {"leaf", K::string}, {"proof", K::array}})) {
      return fail("bad_entry", where + ": not a {\"index\",\"leaf\",\"proof\"} object");
    }
    const json::object& o = v.get_object();
    const int64_t index = IntOf(o.at("index"));
    if (index != report.first_index + k) {
      return fail("bad_entry", where + ": leaf " + std::to_string(index) +
                                   " where leaf " +
                                   std::to_string(report.first_index + k) +
                                   " belongs (leaves left out or reordered)");
    }
    const std::string_view leaf = StrOf(o.at("leaf"));
    auto parsed = ParseLeaf(leaf);
    if (!parsed) {
      return fail("leaf_malformed", where + ": leaf " + std::to_string(index) +
                                        " is not a canonical approvald audit leaf");
    }
    std::vector<Hash> proof;
    const json::array& items = o.at("proof").get_array();
    if (items.size() > 64) return fail("bad_entry", where + ": proof too long");
    for (const json::value& item : items) {
      std::optional<Hash> hash;
      if (item.is_string()) hash = HashFromBase64(StrOf(item));
      if (!hash) {
        return fail("bad_entry", where + ": a proof element is not base64 of 32 bytes");
      }
      proof.push_back(*hash);
    }
    if (!VerifyInclusion(LeafHash(leaf), index, cp->size, proof, cp->root)) {
      return fail("inclusion_failed",
                  where + ": leaf " + std::to_string(index) +
                      " is not included in the signed checkpoint of size " +
                      std::to_string(cp->size) + " (the leaf or its proof was altered)");
    }
    const bool in_period = InPeriod(LeafTime(*parsed), report.from, report.to);
    if ((k == 0 || k == count - 1) && !in_period) {
      return fail("period_mismatch", where + ": leaf " + std::to_string(index) +
                                         " opens or closes the range but its time " +
                                         FormatTimestampUtc(LeafTime(*parsed)) +
                                         " is outside the period");
    }
    if (in_period) {
      ++report.in_period;
      (parsed->event ? report.events : report.records)++;
    }
    ++report.entries;
  }
  while (std::getline(in, line)) {
    if (!line.empty()) {
      return fail("bad_entry",
                  "text after the last of the " + std::to_string(count) + " leaves");
    }
  }
  report.ok = true;
  return report;
}

}  // namespace approvald::audit
