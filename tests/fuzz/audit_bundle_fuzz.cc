// Fuzz target: the offline audit bundle verifier (audit/bundle.h). An
// auditor runs it on a file someone handed over, so every byte is hostile.
// The input is written to a temporary file and verified on the key the
// bundle carries; one that passes is verified again against a trusted key
// (the seed bundle's). The verifier must never crash; a report says ok
// exactly when it has no failure code; the trusted check passes exactly
// when the bundle's key is the trusted one.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit/bundle.h"
#include "audit/checkpoint.h"

namespace {

using approvald::audit::BundleReport;

// The verifier key of tests/fuzz/corpus/audit_bundle/valid-24-leaves.jsonl.
constexpr const char* kSeedKey =
    "approvald/local+d92318fd+AYIYX4BwE06KjObuNaVzRx5gzy01PK6SO2wdyO+yS3MT";

const std::string& TempPath() {
  static const std::string* path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/approvald-fuzz-XXXXXX";
    int fd = mkstemp(pattern.data());
    if (fd < 0) {
      std::perror("fuzz harness: mkstemp");
      std::abort();
    }
    close(fd);
    std::atexit([] { std::remove(TempPath().c_str()); });
    return new std::string(pattern);
  }();
  return *path;
}

void Check(const approvald::Result<BundleReport>& r) {
  if (!r) {
    std::fprintf(stderr, "fuzz harness: cannot read %s: %s\n", TempPath().c_str(),
                 r.error().message.c_str());
    std::abort();
  }
  if (r->ok != r->failure_code.empty()) {
    std::fprintf(stderr, "fuzz oracle: ok=%d with failure '%s: %s'\n", r->ok,
                 r->failure_code.c_str(), r->failure.c_str());
    std::abort();
  }
  (void)r->Summary();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const approvald::audit::LogKey* trusted = [] {
    auto k = approvald::audit::ParseVerifierKey(kSeedKey);
    if (!k) std::abort();
    return new approvald::audit::LogKey(*k);
  }();
  const std::string& path = TempPath();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror("fuzz harness: writing the bundle");
    std::abort();
  }
  auto own = approvald::audit::VerifyBundle(path);
  Check(own);
  if (!own->ok) return 0;
  // A bundle that verifies on its own key verifies against the trusted key
  // exactly when that is its key.
  auto against = approvald::audit::VerifyBundle(path, trusted);
  Check(against);
  const bool same_key = own->verifier_key == kSeedKey;
  if (against->ok != same_key || (!same_key && against->failure_code != "untrusted_key")) {
    std::fprintf(stderr, "fuzz oracle: key %s, trusted check ok=%d failure '%s'\n",
                 own->verifier_key.c_str(), against->ok, against->failure_code.c_str());
    std::abort();
  }
  return 0;
}
