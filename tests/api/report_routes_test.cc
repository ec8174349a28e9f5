// GET /api/v1/reports/{name} through the router (api/report_routes.h): who
// may read, the JSON and CSV bodies, and the error answers.
#include "api/report_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/api/router_fixture.h"

namespace approvald::api {
namespace {

namespace json = boost::json;

class ReportRoutesTest : public RouterFixture {
 protected:
  ReportRoutesTest()
      : RouterFixture({*ParseTimestamp("2024-03-04T09:00:00+08:00"),  // a Monday
                       {"lin_xiaoyan", "zhang_min", "xu_lei", "chen_zhiyuan"},
                       false}) {}

  // Registers one rectification item through the API, as the office.
  void RegisterItem(const std::string& office_token) {
    auto r = Call(http::verb::post, "/api/v1/instances",
                  R"({"workflow":"rectification","data":{"problem_no":"1-1","area":"finance",)"
                  R"("problem":"报销审核不严, \"双线\"未落实","responsible_leader":"wang_haiyan",)"
                  R"("responsible_dept":"finance","deadline":"2024-03-01"}})",
                  office_token);
    ASSERT_EQ(r.msg.result(), http::status::created) << r.msg.body();
  }
};

TEST_F(ReportRoutesTest, AuditorGetsJsonRowsAndSummary) {
  RegisterItem(Login("lin_xiaoyan"));
  auto r = Call(http::verb::get, "/api/v1/reports/rectification?from=2024-01-01&to=2024-06-30",
                "", Login("audit"));
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
  auto r = Call(http::verb::get, "/api/v1/reports/rectification?format=csv", "", office);
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
    auto r = Call(http::verb::get, "/api/v1/reports/sanzhong-ledger", "", Login(who));
    EXPECT_EQ(r.msg.result(), http::status::forbidden) << who;
    EXPECT_EQ(Code(r), "forbidden_for_role") << who;
  }
  EXPECT_EQ(Call(http::verb::get, "/api/v1/reports/sanzhong-ledger").msg.result(),
            http::status::unauthorized);
}

// GET /me names the reports the caller may read, by the same rule, so the
// UI shows report links exactly to those whom the route serves.
TEST_F(ReportRoutesTest, MeListsTheReportsTheCallerMayRead) {
  auto reports = [&](const std::string& user) {
    auto r = Call(http::verb::get, "/api/v1/me", "", Login(user));
    EXPECT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
    std::vector<std::string> out;
    // The parsed body must outlive the loop (a temporary's array would dangle).
    json::value body = Body(r);
    for (const auto& x : body.at("reports").as_array()) out.emplace_back(x.as_string());
    return out;
  };
  const std::vector<std::string> all = {"sanzhong-ledger", "rectification", "procurement"};
  EXPECT_EQ(reports("zhang_min"), all);  // an office clerk
  EXPECT_EQ(reports("audit"), all);
  EXPECT_TRUE(reports("xu_lei").empty());
  EXPECT_TRUE(reports("root").empty());
  for (const std::string& name : reports("zhang_min")) {
    auto r = Call(http::verb::get, "/api/v1/reports/" + name, "", Login("zhang_min"));
    EXPECT_EQ(r.msg.result(), http::status::ok) << name << ": " << r.msg.body();
  }
}

TEST_F(ReportRoutesTest, UnknownReportIs404WithTheErrorShape) {
  auto r = Call(http::verb::get, "/api/v1/reports/ledger", "", Login("audit"));
  ASSERT_EQ(r.msg.result(), http::status::not_found);
  json::value v = json::parse(r.msg.body());
  EXPECT_EQ(v.at("error").at("code").as_string(), "report_not_found");
  EXPECT_NE(std::string(v.at("error").at("message").as_string()).find("sanzhong-ledger"),
            std::string::npos);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/reports/x/y", "", Login("audit")).msg.result(),
            http::status::not_found);
}

TEST_F(ReportRoutesTest, BadDatesFormatsAndParametersAre400) {
  std::string t = Login("audit");
  for (const char* target : {"/api/v1/reports/procurement?from=2024-13-01",
                             "/api/v1/reports/procurement?to=yesterday",
                             "/api/v1/reports/procurement?from=2024-06-30&to=2024-01-01",
                             "/api/v1/reports/procurement?format=xlsx",
                             "/api/v1/reports/procurement?since=2024-01-01"}) {
    auto r = Call(http::verb::get, target, "", t);
    EXPECT_EQ(r.msg.result(), http::status::bad_request) << target;
    EXPECT_EQ(Code(r), "bad_request") << target;
  }
  auto ok = Call(http::verb::get,
                 "/api/v1/reports/procurement?from=2024-01-01T00:00:00%2B08:00&to=2024-01-01",
                 "", t);
  EXPECT_EQ(ok.msg.result(), http::status::ok) << ok.msg.body();
}

TEST_F(ReportRoutesTest, OnlyGet) {
  auto r = Call(http::verb::post, "/api/v1/reports/procurement", "", Login("zhang_min"));
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
