// Export bundles: a self-contained file with which an auditor verifies one
// period of the audit log offline, without the server and without trusting
// this program (scripts/verify-bundle.py checks the same file with only the
// Python standard library and the openssl command). Format: docs/AUDIT.md,
// "Export bundle". In short, JSON Lines:
//
//   line 1: {"format":"approvald-audit-bundle","version":1,"origin":..,
//            "verifier_key":..,"public_key":..,"public_key_pem":..,
//            "from":..,"to":..,"from_ms":..,"to_ms":..,
//            "checkpoint":"<signed checkpoint note>",
//            "first_index":A,"count":N}
//   then N lines, leaves A, A+1, ..., A+N-1 in order:
//            {"index":i,"leaf":"<leaf data>","proof":["<base64>",...]}
//
// The leaves are every leaf from the first to the last whose time lies in
// [from, to) (a contiguous range, so none inside it can be left out), each
// with its RFC 9162 inclusion proof against the signed checkpoint.
#ifndef APPROVALD_AUDIT_BUNDLE_H_
#define APPROVALD_AUDIT_BUNDLE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "approvald/status.h"
#include "approvald/store.h"
#include "audit/checkpoint.h"

namespace approvald::audit {

inline constexpr char kBundleFormat[] = "approvald-audit-bundle";
inline constexpr int kBundleVersion = 1;

struct ExportSummary {
  int64_t first_index = 0;
  int64_t count = 0;      // leaves written
  int64_t in_period = 0;  // of which time lies in [from, to)
  Checkpoint checkpoint;  // the one the proofs are against
};

// Writes the bundle for leaves whose time lies in [from, to) to `out_path`
// (created or truncated, written to a temporary file beside it and renamed
// into place when complete). Proofs are against the latest stored
// checkpoint, which must verify under `key` and cover the last leaf of the
// period: otherwise kUnavailable ("no_covering_checkpoint": wait for the
// next checkpoint, or narrow the period). Every leaf's hash and proof are
// checked before they are written. kInvalidArgument if from >= to.
Result<ExportSummary> ExportBundle(Store& store, const LogKey& key, Timestamp from,
                                   Timestamp to, const std::string& out_path);

struct BundleReport {
  bool ok = false;
  std::string origin;
  std::string verifier_key;  // compare with the one the log operator published
  Timestamp from, to;
  Checkpoint checkpoint;
  int64_t first_index = 0;
  int64_t entries = 0;  // leaves verified
  int64_t in_period = 0;
  int64_t events = 0;   // of the leaves in the period: instance events
  int64_t records = 0;  // of the leaves in the period: other records
  // On failure: a stable code and a message naming the line / leaf.
  //   bad_bundle          not a bundle of this format (line 1)
  //   untrusted_key       the bundle's key is not the one given to trust
  //   checkpoint_signature / bad_checkpoint   the checkpoint does not verify
  //   bad_entry           a leaf line is malformed or out of sequence
  //   leaf_malformed      a leaf is not a canonical audit leaf
  //   inclusion_failed    a leaf's proof does not lead to the signed root
  //   period_mismatch     the range does not start/end with leaves in period
  std::string failure_code;
  std::string failure;

  std::string Summary() const;
};

// Verifies a bundle completely offline: the header, the checkpoint's
// signature under the bundle's key (and, if `trusted` is given, that this is
// the trusted key and origin), every leaf's canonical form, index sequence
// and inclusion proof, and that the range is the period's. Tampering is a
// report with ok = false; the Result fails only if the file cannot be read.
Result<BundleReport> VerifyBundle(const std::string& path,
                                  const LogKey* trusted = nullptr);

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_BUNDLE_H_
