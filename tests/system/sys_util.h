// Small helpers shared by the reliability, security and soak tests that run
// the real daemon: logging in, building request bodies, listing everything,
// running `approvald audit verify`.
#ifndef APPROVALD_TESTS_SYSTEM_SYS_UTIL_H_
#define APPROVALD_TESTS_SYSTEM_SYS_UTIL_H_

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "tests/system/client.h"

namespace approvald::systest {

inline constexpr const char* kDemoPassword = "approvald-demo";

// Limits high enough that load tests are not rate limited.
inline constexpr const char* kNoRateLimit =
    "limits:\n  requests_per_second: 1000000\n  request_burst: 1000000\n";

inline std::string Bearer(const std::string& token) { return "Bearer " + token; }

// Logs `user` in with the demo password; "" if that failed.
inline std::string LoginAs(HttpClient& c, const std::string& user,
                           const std::string& password = kDemoPassword) {
  Reply r = c.Send(http::verb::post, "/api/v1/auth/login",
                   R"({"username":")" + user + R"(","password":")" + password + R"("})");
  if (r.status != 200) return "";
  json::value v = r.Json();
  return v.is_object() && v.as_object().contains("token")
             ? std::string(v.at("token").as_string())
             : "";
}

// A valid expense reimbursement submission.
inline std::string ExpenseJson(const std::string& invoice, int64_t fen = 12000,
                               const std::string& purpose = "出差") {
  json::object inv;
  inv["number"] = invoice;
  inv["amount"] = fen;
  json::object data;
  data["purpose"] = purpose;
  data["category"] = "travel";
  data["travel_approval"] = "sha256:" + std::string(64, 'a');  // 出差审批单, required
  data["amount"] = fen;
  data["spent_on"] = "2025-11-20";
  data["invoices"] = json::array{inv};
  json::object o;
  o["workflow"] = "expense";
  o["data"] = std::move(data);
  return json::serialize(o);
}

// Every instance id `token` may list (all of them for an auditor), following
// next_after; nullopt-like empty set plus *ok=false on any error.
inline std::set<int64_t> AllInstanceIds(HttpClient& c, const std::string& token, bool* ok) {
  std::set<int64_t> ids;
  *ok = true;
  int64_t after = 0;
  for (int pages = 0; pages < 10000; ++pages) {
    Reply page = c.Send(http::verb::get,
                        "/api/v1/instances?limit=500&after=" + std::to_string(after), "",
                        {{"Authorization", Bearer(token)}});
    if (page.status != 200) {
      *ok = false;
      return ids;
    }
    json::value body = page.Json();
    for (const auto& row : body.at("items").as_array()) ids.insert(row.at("id").as_int64());
    const json::value& next = body.at("next_after");
    if (next.is_null()) break;
    after = next.as_int64();
  }
  return ids;
}

// The audit log size as an auditor sees it (the latest leaf index + 1), or
// -1 on error.
inline int64_t AuditLeafCount(HttpClient& c, const std::string& auditor_token) {
  int64_t after = -1, count = 0;
  for (int pages = 0; pages < 100000; ++pages) {
    Reply r = c.Send(http::verb::get,
                     "/api/v1/audit?limit=500&after=" + std::to_string(after), "",
                     {{"Authorization", Bearer(auditor_token)}});
    if (r.status != 200) return -1;
    json::value v = r.Json();
    const json::array& items = v.at("items").as_array();
    count += static_cast<int64_t>(items.size());
    if (items.empty() || v.at("next_after").is_null()) break;
    after = v.at("next_after").as_int64();
  }
  return count;
}

// Runs `approvald audit verify --data-dir data_dir`; returns its exit status
// and puts its output in *output.
inline int RunAuditVerify(const std::string& data_dir, std::string* output) {
  std::string cmd = std::string(APPROVALD_BINARY) + " audit verify --data-dir " + data_dir +
                    " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[512];
  output->clear();
  while (fgets(buf, sizeof buf, p)) *output += buf;
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace approvald::systest

#endif  // APPROVALD_TESTS_SYSTEM_SYS_UTIL_H_
