// Export bundles: round trip, tamper detection, and the independent
// Python + openssl verifier (scripts/verify-bundle.py) on the same files.
#include "audit/bundle.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "audit/encoding.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "store/memory/memory_store.h"

namespace approvald::audit {
namespace {

namespace fs = std::filesystem;

constexpr char kOrigin[] = "approvald/test-unit";
constexpr int64_t kT0 = 1709251200000;  // 2024-03-01T00:00:00Z
constexpr int64_t kMinute = 60000;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << '\n';
}

void ReplaceOnce(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << "no '" << from << "' in " << s.substr(0, 200);
  s.replace(at, from.size(), to);
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bundle_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    key_ = *SigningKey::Generate();
    log_key_ = LogKey{kOrigin, key_.public_key()};
    // 40 leaves one minute apart: instance events and login records; leaf
    // 25 is a record stamped an hour early (a late-arriving entry).
    for (int i = 0; i < 40; ++i) {
      int64_t at = kT0 + i * kMinute;
      if (i == 25) at -= 60 * kMinute;
      if (i % 3 == 0) {
        AuditRecord rec;
        rec.at = Timestamp{at};
        rec.type = "login";
        rec.actor = PersonId("u" + std::to_string(i));
        rec.subject = "user:u" + std::to_string(i);
        ASSERT_TRUE(store_.AppendAudit(rec).has_value());
      } else {
        AppendRequest req;
        Event e;
        e.version = 1;
        e.at = Timestamp{at};
        e.type = "submitted";
        e.actor = PersonId("p" + std::to_string(i));
        e.data["amount"] = Value::Of(Money{12300 + i});
        e.comment = "报销 " + std::to_string(i);
        req.events.push_back(e);
        req.row.workflow = "expense";
        req.row.def_hash = "sha256:" + std::string(64, 'a');
        ASSERT_TRUE(store_.Append(req).has_value());
      }
    }
    Sign(40);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Sign(int64_t size) {
    auto cp = SignCheckpoint(key_, kOrigin, size, *store_.RootAt(size),
                             Timestamp{kT0 + 100 * kMinute});
    ASSERT_TRUE(store_.SaveCheckpoint(*cp));
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Leaves with time in [10 min, 30 min): indices 10..29, of which 25 is
  // stamped outside the period.
  std::string ExportMiddle(const std::string& name = "bundle.jsonl") {
    auto r = ExportBundle(store_, log_key_, Timestamp{kT0 + 10 * kMinute},
                          Timestamp{kT0 + 30 * kMinute}, Path(name));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return Path(name);
  }

  BundleReport Check(const std::string& path, const LogKey* trusted = nullptr) {
    auto r = VerifyBundle(path, trusted);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(BundleReport{});
  }

  // Runs scripts/verify-bundle.py; returns its exit status, or -1 when
  // python3 or openssl is missing (the caller skips).
  int RunScript(const std::string& bundle, const std::string& extra = "") {
    if (std::system("command -v python3 >/dev/null && command -v openssl >/dev/null") !=
        0) {
      return -1;
    }
    std::string cmd = "python3 " + std::string(APPROVAL_SOURCE_DIR) +
                      "/scripts/verify-bundle.py " + bundle + " " + extra + " > " +
                      Path("script.out") + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream in(Path("script.out"));
    std::stringstream ss;
    ss << in.rdbuf();
    script_output_ = ss.str();
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
  }

  std::string dir_;
  MemoryStore store_;
  SigningKey key_;
  LogKey log_key_;
  std::string script_output_;
};

TEST_F(BundleTest, ExportsTheContiguousRangeOfThePeriod) {
  auto r = ExportBundle(store_, log_key_, Timestamp{kT0 + 10 * kMinute},
                        Timestamp{kT0 + 30 * kMinute}, Path("b.jsonl"));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->first_index, 10);
  EXPECT_EQ(r->count, 20);
  EXPECT_EQ(r->in_period, 19);  // leaf 25 is stamped an hour early
  EXPECT_EQ(r->checkpoint.size, 40);
  std::vector<std::string> lines = ReadLines(Path("b.jsonl"));
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_TRUE(lines[0].starts_with(R"({"format":"approvald-audit-bundle","version":1,)"))
      << lines[0];
  EXPECT_TRUE(lines[1].starts_with(R"({"index":10,"leaf":")")) << lines[1];
  EXPECT_FALSE(fs::exists(Path("b.jsonl.tmp")));
}

TEST_F(BundleTest, RoundTripVerifies) {
  std::string path = ExportMiddle();
  BundleReport r = Check(path);
  EXPECT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(r.origin, kOrigin);
  EXPECT_EQ(r.verifier_key, VerifierKey(log_key_));
  EXPECT_EQ(r.first_index, 10);
  EXPECT_EQ(r.entries, 20);
  EXPECT_EQ(r.in_period, 19);
  EXPECT_EQ(r.events + r.records, 19);
  EXPECT_EQ(r.records, 6);  // 12, 15, 18, 21, 24, 27 (25 is not in period)
  EXPECT_EQ(r.checkpoint.size, 40);
  EXPECT_TRUE(Check(path, &log_key_).ok);
  EXPECT_TRUE(r.Summary().starts_with("ok: 20 leaves")) << r.Summary();
}

TEST_F(BundleTest, AnotherKeyIsRefusedWhenAKeyIsTrusted) {
  // An operator could build a perfectly consistent bundle with a key of its
  // own; only the auditor's pinned key tells.
  MemoryStore forged;
  auto other = SigningKey::Generate();
  LogKey other_key{kOrigin, other->public_key()};
  AuditRecord rec;
  rec.at = Timestamp{kT0 + 15 * kMinute};
  rec.type = "login";
  ASSERT_TRUE(forged.AppendAudit(rec).has_value());
  ASSERT_TRUE(forged.SaveCheckpoint(
      *SignCheckpoint(*other, kOrigin, 1, *forged.RootAt(1), Timestamp{kT0})));
  ASSERT_TRUE(ExportBundle(forged, other_key, Timestamp{kT0},
                           Timestamp{kT0 + 30 * kMinute}, Path("f.jsonl")));
  EXPECT_TRUE(Check(Path("f.jsonl")).ok);
  BundleReport r = Check(Path("f.jsonl"), &log_key_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure_code, "untrusted_key");
}

TEST_F(BundleTest, EmptyPeriodGivesAnEmptyButSignedBundle) {
  auto r = ExportBundle(store_, log_key_, Timestamp{kT0 - 500 * kMinute},
                        Timestamp{kT0 - 400 * kMinute}, Path("e.jsonl"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->count, 0);
  BundleReport v = Check(Path("e.jsonl"));
  EXPECT_TRUE(v.ok) << v.Summary();
  EXPECT_EQ(v.entries, 0);
}

TEST_F(BundleTest, ExportNeedsACoveringCheckpoint) {
  AuditRecord rec;
  rec.at = Timestamp{kT0 + 50 * kMinute};
  rec.type = "login";
  ASSERT_TRUE(store_.AppendAudit(rec).has_value());
  auto r = ExportBundle(store_, log_key_, Timestamp{kT0}, Timestamp{kT0 + 60 * kMinute},
                        Path("x.jsonl"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "no_covering_checkpoint");
  EXPECT_FALSE(fs::exists(Path("x.jsonl")));
  // The period before the new leaf is still exportable.
  EXPECT_TRUE(ExportBundle(store_, log_key_, Timestamp{kT0},
                           Timestamp{kT0 + 45 * kMinute}, Path("y.jsonl"))
                  .has_value());
  EXPECT_EQ(
      ExportBundle(store_, log_key_, Timestamp{kT0}, Timestamp{kT0}, Path("z.jsonl"))
          .error()
          .reason,
      "bad_period");
  MemoryStore empty;
  EXPECT_EQ(
      ExportBundle(empty, log_key_, Timestamp{kT0}, Timestamp{kT0 + 1}, Path("z.jsonl"))
          .error()
          .reason,
      "no_covering_checkpoint");
}

struct Tamper {
  const char* name;
  std::function<void(std::vector<std::string>&)> edit;
  const char* code;  // what VerifyBundle must report
};

std::vector<Tamper> Tampers() {
  return {
      {"leaf amount changed",
       [](auto& l) { ReplaceOnce(l[2], "{\\\"fen\\\":1231", "{\\\"fen\\\":9231"); },
       "inclusion_failed"},
      {"leaf made non-canonical",
       [](auto& l) { ReplaceOnce(l[2], "{\\\"fen\\\"", "{ \\\"fen\\\""); },
       "leaf_malformed"},
      {"proof element flipped",
       [](auto& l) {
         size_t at = l[5].find("\"proof\":[\"") + 10;
         l[5][at] = l[5][at] == 'A' ? 'B' : 'A';
       },
       "inclusion_failed"},
      {"proof element dropped",
       [](auto& l) {
         size_t a = l[5].find("\"proof\":[\"") + 9;
         size_t b = l[5].find(",", a);
         l[5].erase(a, b - a + 1);
       },
       "inclusion_failed"},
      {"leaf line removed", [](auto& l) { l.erase(l.begin() + 7); }, "bad_entry"},
      {"last leaf line removed", [](auto& l) { l.pop_back(); }, "bad_entry"},
      {"two leaf lines swapped", [](auto& l) { std::swap(l[4], l[9]); }, "bad_entry"},
      {"leaf line duplicated", [](auto& l) { l.push_back(l.back()); }, "bad_entry"},
      {"checkpoint root changed",
       [](auto& l) {
         size_t at = l[0].find("\\n40\\n") + 6;
         l[0][at] = l[0][at] == 'A' ? 'B' : 'A';
       },
       "checkpoint_signature"},
      {"checkpoint size changed",
       [](auto& l) { ReplaceOnce(l[0], "\\n40\\n", "\\n41\\n"); },
       "checkpoint_signature"},
      {"count lowered",
       [](auto& l) { ReplaceOnce(l[0], "\"count\":20", "\"count\":19"); }, "bad_entry"},
      {"first index shifted",
       [](auto& l) { ReplaceOnce(l[0], "\"first_index\":10", "\"first_index\":11"); },
       "bad_entry"},
      {"period narrowed",
       [](auto& l) {
         ReplaceOnce(l[0], "\"from_ms\":1709251800000", "\"from_ms\":1709251860000");
         ReplaceOnce(l[0], "2024-03-01T00:10:00.000Z", "2024-03-01T00:11:00.000Z");
       },
       "period_mismatch"},
      {"public key swapped",
       [](auto& l) {
         auto other = SigningKey::Generate();
         size_t a = l[0].find("\"public_key\":\"") + 14;
         size_t b = l[0].find('"', a);
         l[0].replace(a, b - a, other->public_key().Base64());
       },
       "bad_bundle"},
      {"header garbage", [](auto& l) { l[0] = "{\"format\":1}"; }, "bad_bundle"},
      {"extra member in a leaf line",
       [](auto& l) { ReplaceOnce(l[2], "{\"index\"", "{\"x\":1,\"index\""); },
       "bad_entry"},
  };
}

TEST_F(BundleTest, EveryTamperingIsDetected) {
  std::string good = ExportMiddle();
  for (const Tamper& t : Tampers()) {
    std::vector<std::string> lines = ReadLines(good);
    t.edit(lines);
    std::string path = Path("t.jsonl");
    WriteLines(path, lines);
    BundleReport r = Check(path);
    EXPECT_FALSE(r.ok) << t.name;
    EXPECT_EQ(r.failure_code, t.code) << t.name << ": " << r.Summary();
  }
}

TEST_F(BundleTest, MissingFileIsAnError) {
  auto r = VerifyBundle(Path("nope.jsonl"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "bundle_missing");
}

TEST_F(BundleTest, PythonScriptAgreesWithVerifyBundle) {
  std::string good = ExportMiddle();
  int rc = RunScript(good);
  if (rc == -1) GTEST_SKIP() << "python3 or openssl not installed";
  EXPECT_EQ(rc, 0) << script_output_;
  EXPECT_NE(script_output_.find("signature verified by openssl"), std::string::npos)
      << script_output_;
  EXPECT_NE(script_output_.find("20 included, 19 in"), std::string::npos)
      << script_output_;
  EXPECT_EQ(RunScript(good, "--key " + VerifierKey(log_key_) + " --list"), 0)
      << script_output_;
  EXPECT_NE(script_output_.find("报销"), std::string::npos) << script_output_;
  LogKey other{kOrigin, SigningKey::Generate()->public_key()};
  EXPECT_EQ(RunScript(good, "--key " + VerifierKey(other)), 1) << script_output_;

  // A python3 start costs about a second on a busy machine: a selection of
  // the tamperings, one of each kind of check.
  const std::set<std::string> selected = {
      "leaf amount changed",     "proof element flipped", "leaf line removed",
      "checkpoint root changed", "period narrowed",       "public key swapped"};
  int run = 0;
  for (const Tamper& t : Tampers()) {
    if (!selected.count(t.name)) continue;
    ++run;
    std::vector<std::string> lines = ReadLines(good);
    t.edit(lines);
    std::string path = Path("t.jsonl");
    WriteLines(path, lines);
    EXPECT_EQ(RunScript(path), 1) << t.name << ":\n" << script_output_;
    EXPECT_NE(script_output_.find("FAILED"), std::string::npos) << t.name;
  }
  EXPECT_EQ(run, 6);
}

}  // namespace
}  // namespace approvald::audit
