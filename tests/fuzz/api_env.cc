#include "tests/fuzz/api_env.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "api/bootstrap.h"

namespace approvald::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

api::AuthOptions FastAuth() {
  api::AuthOptions o;
  o.argon2_memory_kib = 64;  // the harness, not Argon2, is under test
  o.argon2_iterations = 1;
  o.session_cache_ms = 0;
  return o;
}

std::string SourcePath(const char* rel) { return std::string(APPROVAL_SOURCE_DIR) + "/" + rel; }

constexpr const char* kPassword = "password-1";
constexpr std::string_view kPlaceholder = "Bearer @";

}  // namespace

ApiEnv::ApiEnv()
    : clock_(Timestamp{1'764'300'000'000}),  // 2025-11-28T03:20:00Z, a Friday
      auth_(FastAuth(), users_, store_, clock_),
      limiter_(1e9, 1 << 30) {
  auto org = api::LoadOrgFile(SourcePath("config/org.yaml"));
  if (!org) Die(org.error().message);
  const char* wf_dir = std::getenv("APPROVAL_FUZZ_WORKFLOWS");
  auto n = api::LoadWorkflows(wf_dir ? wf_dir : SourcePath("workflows"), **org, store_,
                              registry_);
  if (!n) Die(n.error().message);
  auto calendar = api::LoadCalendarFile(SourcePath("config/holidays.yaml"));
  if (!calendar) Die(calendar.error().message);
  auto unit = api::LoadUnitConfigFiles(SourcePath("config/unit.yaml"),
                                       SourcePath("config/procurement-catalogue.yaml"), **org);
  if (!unit) Die(unit.error().message);
  EngineOptions eo;
  eo.unit_config = std::move(*unit);
  eo.calendar = std::move(*calendar);
  engine_ = std::make_unique<Engine>(std::move(eo), store_, clock_, *org, registry_, nullptr);
  services_ = std::make_unique<api::Services>(api::Services{
      *engine_, store_, auth_, limiter_, metrics_, clock_, options_,
      [this] { return mono_ms_; }, nullptr});

  struct Account {
    const char* name;
    Role role;
  };
  for (Account a : {Account{"zhang_min", Role::kUser}, Account{"lin_xiaoyan", Role::kUser},
                    Account{"zheng_li", Role::kUser}, Account{"li_jianhua", Role::kUser},
                    Account{"audit", Role::kAuditor}, Account{"root", Role::kAdmin}}) {
    PersonId person = a.role == Role::kUser ? PersonId(a.name) : PersonId();
    if (auto u = auth_.AddUser(a.name, a.role, person, kPassword, "fuzz"); !u) {
      Die(u.error().message);
    }
    int retry = 0;
    auto login = auth_.Login(a.name, kPassword, "127.0.0.1", &retry);
    if (!login) Die(login.error().message);
    tokens_[a.name] = login->token;
  }

  api::Request submit;
  submit.msg.method(api::http::verb::post);
  submit.msg.target("/api/v1/instances");
  submit.msg.version(11);
  submit.msg.set(api::http::field::authorization, "Bearer @zhang_min");
  submit.msg.body() =
      R"({"workflow":"expense","data":{"purpose":"差旅","category":"travel","amount":12000,)"
      R"("travel_approval":"sha256:)" + std::string(64, 'a') + R"(",)"
      R"("spent_on":"2025-11-20","invoices":[{"number":"FP-1","amount":12000}]}})";
  submit.msg.prepare_payload();
  api::Response res = Route(std::move(submit));
  if (res.msg.result() != api::http::status::created) Die("submit: " + res.msg.body());
  instance_id_ = boost::json::parse(res.msg.body()).at("id").as_int64();
}

ApiEnv::~ApiEnv() = default;

std::string ApiEnv::Token(const std::string& username) const {
  auto it = tokens_.find(username);
  return it == tokens_.end() ? std::string() : it->second;
}

api::Response ApiEnv::Route(api::Request req) {
  auto auth = req.msg.find(api::http::field::authorization);
  if (auth != req.msg.end()) {
    std::string_view v = auth->value();
    if (v.starts_with(kPlaceholder)) {
      std::string token = Token(std::string(v.substr(kPlaceholder.size())));
      if (!token.empty()) req.msg.set(api::http::field::authorization, "Bearer " + token);
    }
  }
  if (req.remote.empty()) req.remote = "127.0.0.1";
  if (req.request_id.empty()) req.request_id = "fuzz";
  ++mono_ms_;
  return api::Route(req, *services_);
}

ApiEnv& SharedEnv() {
  static std::unique_ptr<ApiEnv> env;
  static int served = 0;
  static const bool reset_each = std::getenv("APPROVAL_FUZZ_RESET_EACH") != nullptr;
  if (!env || reset_each || served >= kInputsPerEnv) {
    env.reset();  // the old engine goes before the new one loads
    env = std::make_unique<ApiEnv>();
    served = 0;
  }
  ++served;
  return *env;
}

}  // namespace approvald::fuzz
