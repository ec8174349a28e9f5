// GET /api/v1/reports/{name} through the router (api/report_routes.h): who
// may read, the JSON and CSV bodies, and the error answers.
#include "api/report_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/bootstrap.h"
#include "api/router.h"
#include "core/registry.h"
#include "store/memory/memory_store.h"
#include "store/memory/user_store.h"

namespace approvald::api {
namespace {

namespace json = boost::json;

class ReportRoutesTest : public ::testing::Test {
 protected:
  ReportRoutesTest()
      : clock_(*ParseTimestamp("2024-03-04T09:00:00+08:00")),  // a Monday
        auth_(FastAuth(), users_, store_, clock_),
        limiter_(1000, 1000) {
    auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
    EXPECT_TRUE(org.has_value()) << org.error().message;
    org_ = *org;
    auto n = LoadWorkflows(APPROVAL_SOURCE_DIR "/workflows", *org_, store_, registry_);
    EXPECT_TRUE(n.has_value()) << n.error().message;
    engine_ = std::make_unique<Engine>(EngineOptions{}, store_, clock_, org_, registry_, nullptr);
    services_ = std::make_unique<Services>(Services{*engine_, store_, auth_, limiter_, metrics_,
                                                    clock_, options_, [] { return int64_t{0}; },
                                                    nullptr});
    for (const char* p : {"lin_xiaoyan", "zhang_min", "xu_lei", "chen_zhiyuan"}) {
      EXPECT_TRUE(auth_.AddUser(p, Role::kUser, PersonId(p), "password-1", "test").has_value());
    }
    EXPECT_TRUE(auth_.AddUser("audit", Role::kAuditor, PersonId(), "password-1", "t").has_value());
    EXPECT_TRUE(auth_.AddUser("root", Role::kAdmin, PersonId(), "password-1", "t").has_value());
  }

  static AuthOptions FastAuth() {
    AuthOptions o;
    o.argon2_memory_kib = 64;
    o.argon2_iterations = 1;
    o.session_cache_ms = 0;
    return o;
  }

  Response Call(http::verb method, const std::string& target, const std::string& token,
                std::string body = "") {
    Request req;
    req.msg.method(method);
    req.msg.target(target);
    req.msg.version(11);
    req.msg.body() = std::move(body);
    if (!token.empty()) req.msg.set(http::field::authorization, "Bearer " + token);
    req.msg.prepare_payload();
    req.remote = "127.0.0.1";
    req.request_id = "t";
    return Route(req, *services_);
  }

  std::string Login(const std::string& user) {
    auto r = Call(http::verb::post, "/api/v1/auth/login", "",
                  R"({"username":")" + user + R"(","password":"password-1"})");
    EXPECT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
    return std::string(json::parse(r.msg.body()).at("token").as_string());
  }

  static std::string Code(const Response& r) {
    return std::string(json::parse(r.msg.body()).at("error").at("code").as_string());
  }

  // Registers one rectification item through the API, as the office.
  void RegisterItem(const std::string& office_token) {
    auto r = Call(http::verb::post, "/api/v1/instances", office_token,
                  R"({"workflow":"rectification","data":{"problem_no":"1-1","area":"finance",)"
                  R"("problem":"报销审核不严, \"双线\"未落实","responsible_leader":"wang_haiyan",)"
                  R"("responsible_dept":"finance","deadline":"2024-03-01"}})");
    ASSERT_EQ(r.msg.result(), http::status::created) << r.msg.body();
  }

  FakeClock clock_;
  MemoryStore store_;
  MemoryUserStore users_;
  AuthService auth_;
  RateLimiter limiter_;
  Metrics metrics_;
  ApiOptions options_;
  WorkflowRegistry registry_;
  std::shared_ptr<const Org> org_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Services> services_;
};

TEST_F(ReportRoutesTest, AuditorGetsJsonRowsAndSummary) {
  RegisterItem(Login("lin_xiaoyan"));
  auto r = Call(http::verb::get, "/api/v1/reports/rectification?from=2024-01-01&to=2024-06-30",
                Login("audit"));
  ASSERT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
  EXPECT_EQ(r.msg[http::field::content_type], "application/json");
  json::value v = json::parse(r.msg.body());
  EXPECT_EQ(v.at("report").as_string(), "rectification");
  ASSERT_EQ(v.at("rows").as_array().size(), 1u);
  const json::object& row = v.at("rows").as_array()[0].as_object();
  EXPECT_EQ(row.at("problem_no").as_string(), "1-1");
  EXPECT_EQ(row.at("responsible_leader").as_string(), "王海燕");
  EXPECT_EQ(row.at("responsible_dept").as_string(), "计财室");
  EXPECT_EQ(row.at("overdue").as_string(), "是");
  EXPECT_EQ(row.at("days_overdue").as_string(), "3");
  EXPECT_EQ(v.at("summary").at("text").as_string(), "0 of 1 done (0%)");
}

TEST_F(ReportRoutesTest, OfficeGetsCsvWithBomAndQuotedCells) {
  std::string office = Login("zhang_min");
  RegisterItem(Login("lin_xiaoyan"));
  auto r = Call(http::verb::get, "/api/v1/reports/rectification?format=csv", office);
  ASSERT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
  EXPECT_EQ(r.msg[http::field::content_type], "text/csv; charset=utf-8; header=present");
  EXPECT_EQ(r.msg[http::field::content_disposition],
            "attachment; filename=\"rectification.csv\"");
  const std::string& body = r.msg.body();
  ASSERT_GE(body.size(), 3u);
  EXPECT_EQ(body.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(body.substr(3, body.find("\r\n") - 3),
            "编号,问题编号,问题领域,问题描述,责任领导,责任股室,整改时限,当前环节,整改状态,"
            "是否完成,完成日期,是否回头看,是否逾期,逾期天数,是否督办升级");
  EXPECT_NE(body.find("\"报销审核不严, \"\"双线\"\"未落实\""), std::string::npos) << body;
}

TEST_F(ReportRoutesTest, OtherUsersAndAdminsAre403) {
  for (const char* who : {"xu_lei", "chen_zhiyuan", "root"}) {
    auto r = Call(http::verb::get, "/api/v1/reports/sanzhong-ledger", Login(who));
    EXPECT_EQ(r.msg.result(), http::status::forbidden) << who;
    EXPECT_EQ(Code(r), "forbidden_for_role") << who;
  }
  EXPECT_EQ(Call(http::verb::get, "/api/v1/reports/sanzhong-ledger", "").msg.result(),
            http::status::unauthorized);
}

TEST_F(ReportRoutesTest, UnknownReportIs404WithTheErrorShape) {
  auto r = Call(http::verb::get, "/api/v1/reports/ledger", Login("audit"));
  ASSERT_EQ(r.msg.result(), http::status::not_found);
  json::value v = json::parse(r.msg.body());
  EXPECT_EQ(v.at("error").at("code").as_string(), "report_not_found");
  EXPECT_NE(std::string(v.at("error").at("message").as_string()).find("sanzhong-ledger"),
            std::string::npos);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/reports/x/y", Login("audit")).msg.result(),
            http::status::not_found);
}

TEST_F(ReportRoutesTest, BadDatesFormatsAndParametersAre400) {
  std::string t = Login("audit");
  for (const char* target : {"/api/v1/reports/procurement?from=2024-13-01",
                             "/api/v1/reports/procurement?to=yesterday",
                             "/api/v1/reports/procurement?from=2024-06-30&to=2024-01-01",
                             "/api/v1/reports/procurement?format=xlsx",
                             "/api/v1/reports/procurement?since=2024-01-01"}) {
    auto r = Call(http::verb::get, target, t);
    EXPECT_EQ(r.msg.result(), http::status::bad_request) << target;
    EXPECT_EQ(Code(r), "bad_request") << target;
  }
  auto ok = Call(http::verb::get,
                 "/api/v1/reports/procurement?from=2024-01-01T00:00:00%2B08:00&to=2024-01-01",
                 t);
  EXPECT_EQ(ok.msg.result(), http::status::ok) << ok.msg.body();
}

TEST_F(ReportRoutesTest, OnlyGet) {
  auto r = Call(http::verb::post, "/api/v1/reports/procurement", Login("zhang_min"));
  EXPECT_EQ(r.msg.result(), http::status::method_not_allowed);
  EXPECT_EQ(r.msg[http::field::allow], "GET");
}

TEST(ParseReportTimeTest, DatesAreShanghaiDaysAndToIncludesTheDay) {
  EXPECT_EQ(ParseReportTime("from", "2024-01-01", false)->ms,
            ParseTimestamp("2024-01-01T00:00:00+08:00")->ms);
  EXPECT_EQ(ParseReportTime("to", "2024-06-30", true)->ms,
            ParseTimestamp("2024-07-01T00:00:00+08:00")->ms);
  EXPECT_EQ(ParseReportTime("to", "2024-06-30T12:00:00Z", true)->ms,
            ParseTimestamp("2024-06-30T12:00:00Z")->ms);
  EXPECT_FALSE(ParseReportTime("to", "30/06/2024", true));
}

}  // namespace
}  // namespace approvald::api
