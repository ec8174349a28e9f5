// The router over memory stores and the real engine, without sockets: every
// behaviour of the API that does not need a network.
#include "api/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>

#include "api/http_errors.h"
#include "api/json_codec.h"
#include "tests/api/router_fixture.h"

namespace approvald::api {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

class RouterTest : public RouterFixture {
 protected:
  RouterTest()
      : RouterFixture({Timestamp{1'764'300'000'000},  // 2025-11-28, a Friday
                       {"zhang_min", "lin_xiaoyan", "zheng_li", "li_jianhua", "wang_haiyan",
                        "sun_yue", "xu_lei"},
                       true}) {}

  static std::string ExpenseBody(int64_t fen = 12000) {
    return R"({"workflow":"expense","data":{"purpose":"差旅","category":"travel","amount":)" +
           std::to_string(fen) +
           R"(,"travel_approval":"sha256:)" + std::string(64, 'a') +
           R"(","spent_on":"2025-11-20","invoices":[{"number":"FP-)" + std::to_string(fen) +
           R"(","amount":)" + std::to_string(fen) + "}]}}";
  }

  int64_t Submit(const std::string& token) {
    auto r = Call(http::verb::post, "/api/v1/instances", ExpenseBody(), token);
    EXPECT_EQ(r.msg.result(), http::status::created) << r.msg.body();
    return Body(r).at("id").as_int64();
  }
};

TEST_F(RouterTest, HealthAndOpenApiArePublic) {
  auto h = Call(http::verb::get, "/healthz");
  EXPECT_EQ(h.msg.result(), http::status::ok);
  EXPECT_EQ(h.msg.body(), R"({"status":"ok"})");
  auto doc = Call(http::verb::get, "/api/v1/openapi.json");
  ASSERT_EQ(doc.msg.result(), http::status::ok);
  EXPECT_EQ(Body(doc).at("openapi").as_string(), "3.1.0");
}

TEST_F(RouterTest, DrainingHealthIs503) {
  std::atomic<bool> draining{true};
  services_->draining = &draining;
  EXPECT_EQ(Call(http::verb::get, "/healthz").msg.result(), http::status::service_unavailable);
}

TEST_F(RouterTest, LoginReturnsTokenAndMe) {
  std::string t = Login("zhang_min");
  auto me = Call(http::verb::get, "/api/v1/me", "", t);
  ASSERT_EQ(me.msg.result(), http::status::ok);
  EXPECT_EQ(Body(me).at("person").at("name").as_string(), "张敏");
  EXPECT_EQ(Body(me).at("department").at("id").as_string(), "office");
  EXPECT_EQ(me.user, "zhang_min");
}

TEST_F(RouterTest, WrongPasswordIs401AndThenThrottled429) {
  for (int i = 0; i < 3; ++i) {
    auto r = Call(http::verb::post, "/api/v1/auth/login",
                  R"({"username":"zhang_min","password":"nope"})");
    EXPECT_EQ(r.msg.result(), http::status::unauthorized);
    EXPECT_EQ(Code(r), "invalid_credentials");
  }
  auto r = Call(http::verb::post, "/api/v1/auth/login",
                R"({"username":"zhang_min","password":"nope"})");
  EXPECT_EQ(r.msg.result(), http::status::unauthorized);
  auto t = Call(http::verb::post, "/api/v1/auth/login",
                R"({"username":"zhang_min","password":"password-1"})");
  EXPECT_EQ(t.msg.result(), http::status::too_many_requests);
  EXPECT_EQ(Code(t), "login_throttled");
  EXPECT_EQ(t.msg[http::field::retry_after], "1");
}

TEST_F(RouterTest, MissingOrBadTokenIs401WithChallenge) {
  auto r = Call(http::verb::get, "/api/v1/instances");
  EXPECT_EQ(r.msg.result(), http::status::unauthorized);
  EXPECT_EQ(Code(r), "unauthenticated");
  EXPECT_EQ(r.msg[http::field::www_authenticate], "Bearer realm=\"approvald\"");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/me", "", "forged").msg.result(),
            http::status::unauthorized);
}

TEST_F(RouterTest, LogoutEndsTheSession) {
  std::string t = Login("zhang_min");
  EXPECT_EQ(Call(http::verb::post, "/api/v1/auth/logout", "", t).msg.result(),
            http::status::no_content);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/me", "", t).msg.result(), http::status::unauthorized);
}

TEST_F(RouterTest, SubmitIs201WithLocationAndIdempotent) {
  std::string t = Login("zhang_min");
  auto a = Call(http::verb::post, "/api/v1/instances", ExpenseBody(), t,
                {{"Idempotency-Key", "once"}});
  ASSERT_EQ(a.msg.result(), http::status::created) << a.msg.body();
  int64_t id = Body(a).at("id").as_int64();
  EXPECT_EQ(a.msg[http::field::location], "/api/v1/instances/" + std::to_string(id));
  EXPECT_EQ(Body(a).at("status").as_string(), "running");
  EXPECT_EQ(Body(a).at("amount").as_int64(), 12000);
  auto b = Call(http::verb::post, "/api/v1/instances", ExpenseBody(), t,
                {{"Idempotency-Key", "once"}});
  ASSERT_EQ(b.msg.result(), http::status::created);
  EXPECT_EQ(Body(b).at("id").as_int64(), id);
  EXPECT_EQ(b.msg["Idempotent-Replayed"], "true");
  auto list = Call(http::verb::get, "/api/v1/instances?mine=true", "", t);
  EXPECT_EQ(Body(list).at("items").as_array().size(), 1u);
  // The same key with another request is a conflict.
  auto c = Call(http::verb::post, "/api/v1/instances", ExpenseBody(5000), t,
                {{"Idempotency-Key", "once"}});
  EXPECT_EQ(c.msg.result(), http::status::conflict);
}

TEST_F(RouterTest, InvalidFormsAre400NamingTheField) {
  std::string t = Login("zhang_min");
  auto r = Call(http::verb::post, "/api/v1/instances",
                R"({"workflow":"expense","data":{"purpose":"x","category":"travel","amount":1.5,
                    "spent_on":"2025-11-20","invoices":[{"number":"a","amount":1}]}})",
                t);
  EXPECT_EQ(r.msg.result(), http::status::bad_request);
  EXPECT_THAT(r.msg.body(), HasSubstr("field 'amount'"));
  auto u = Call(http::verb::post, "/api/v1/instances",
                R"({"workflow":"expense","data":{"colour":"red"}})", t);
  EXPECT_EQ(u.msg.result(), http::status::bad_request);
  EXPECT_THAT(u.msg.body(), HasSubstr("field 'colour': unknown field"));
  auto j = Call(http::verb::post, "/api/v1/instances", "{not json", t);
  EXPECT_EQ(j.msg.result(), http::status::bad_request);
  EXPECT_EQ(Code(j), "bad_json");
  auto w = Call(http::verb::post, "/api/v1/instances", R"({"workflow":"nope","data":{}})", t);
  EXPECT_EQ(w.msg.result(), http::status::not_found);
  // Nothing was created by any of them.
  EXPECT_EQ(store_.ListInstances(InstanceQuery{})->size(), 0u);
}

TEST_F(RouterTest, DualLineReviewThroughTheApi) {
  int64_t id = Submit(Login("zhang_min"));
  std::string path = "/api/v1/instances/" + std::to_string(id);
  auto approve = [&](const std::string& who, const std::string& node, int64_t version) {
    return Call(http::verb::post, path + "/actions",
                R"({"action":"approve","node":")" + node + R"(","comment":"同意","expected_version":)" +
                    std::to_string(version) + "}",
                Login(who));
  };
  int64_t v = Body(Call(http::verb::get, path, "", Login("zhang_min"))).at("version").as_int64();
  // The department head sees the task and the action.
  std::string lin = Login("lin_xiaoyan");
  auto tasks = Call(http::verb::get, "/api/v1/tasks?kind=pending", "", lin);
  ASSERT_EQ(Body(tasks).at("items").as_array().size(), 1u);
  EXPECT_EQ(Body(tasks).at("items").at(0).at("instance_row").at("id").as_int64(), id);
  auto r1 = approve("lin_xiaoyan", "dept_head_review", v);
  ASSERT_EQ(r1.msg.result(), http::status::ok) << r1.msg.body();
  // A stale version is a conflict, not a lost update.
  auto stale = approve("zheng_li", "finance_review", v);
  EXPECT_EQ(stale.msg.result(), http::status::conflict);
  EXPECT_EQ(Code(stale), "stale_version");
  v = Body(r1).at("version").as_int64();
  ASSERT_EQ(approve("zheng_li", "finance_review", v).msg.result(), http::status::ok);
  v = Body(Call(http::verb::get, path, "", lin)).at("version").as_int64();
  ASSERT_EQ(approve("li_jianhua", "dept_deputy_review", v).msg.result(), http::status::ok);
  v = Body(Call(http::verb::get, path, "", lin)).at("version").as_int64();
  auto last = approve("wang_haiyan", "finance_deputy_review", v);
  ASSERT_EQ(last.msg.result(), http::status::ok) << last.msg.body();
  json::array cur = Body(last).at("current_nodes").as_array();
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_EQ(cur.at(0).as_string(), "pay");
  auto paid = Call(http::verb::post, path + "/actions",
                   R"({"action":"complete","node":"pay","data":{"voucher_no":"V-1"}})",
                   Login("sun_yue"));
  ASSERT_EQ(paid.msg.result(), http::status::ok) << paid.msg.body();
  EXPECT_EQ(Body(paid).at("status").as_string(), "approved");
  auto events = Call(http::verb::get, path + "/events", "", lin);
  ASSERT_EQ(events.msg.result(), http::status::ok);
  EXPECT_GT(Body(events).at("items").as_array().size(), 8u);
}

TEST_F(RouterTest, ALongActionBodyIsReadWhole) {
  // Bodies of every size around the buffer an action's body is parsed into.
  std::string clerk = Login("zhang_min");
  int64_t id = Submit(clerk);
  std::string path = "/api/v1/instances/" + std::to_string(id);
  for (size_t n : {1u, 300u, 340u, 341u, 400u, 2000u}) {
    std::string comment;
    for (size_t i = 0; i < n; ++i) comment += "说";  // three bytes each
    auto acted = Call(http::verb::post, path + "/actions",
                      R"({"action":"comment","comment":")" + comment + R"("})", clerk);
    ASSERT_EQ(acted.msg.result(), http::status::ok) << n << " " << acted.msg.body();
    auto events = Body(Call(http::verb::get, path + "/events", "", clerk)).at("items").as_array();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().at("comment").as_string(), comment) << n;
  }
}

TEST_F(RouterTest, RuleRefusalsCarryTheReasonCode) {
  int64_t id = Submit(Login("zhang_min"));
  // Someone who is not the assignee tries to approve.
  auto r = Call(http::verb::post, "/api/v1/instances/" + std::to_string(id) + "/actions",
                R"({"action":"approve","node":"dept_head_review"})", Login("xu_lei"));
  EXPECT_TRUE(r.msg.result() == http::status::forbidden ||
              r.msg.result() == http::status::unprocessable_entity ||
              r.msg.result() == http::status::not_found)
      << r.msg.body();
  EXPECT_FALSE(Code(r).empty());
  auto bad = Call(http::verb::post, "/api/v1/instances/" + std::to_string(id) + "/actions",
                  R"({"action":"approve","sparkle":true})", Login("lin_xiaoyan"));
  EXPECT_EQ(bad.msg.result(), http::status::bad_request);
  EXPECT_THAT(bad.msg.body(), HasSubstr("field 'sparkle'"));
}

TEST_F(RouterTest, UsersSeeOnlyWhatTheyAreInvolvedIn) {
  int64_t id = Submit(Login("zhang_min"));
  std::string path = "/api/v1/instances/" + std::to_string(id);
  EXPECT_EQ(Call(http::verb::get, path, "", Login("xu_lei")).msg.result(), http::status::not_found);
  EXPECT_EQ(Body(Call(http::verb::get, "/api/v1/instances", "", Login("xu_lei")))
                .at("items").as_array().size(), 0u);
  EXPECT_EQ(Call(http::verb::get, path, "", Login("lin_xiaoyan")).msg.result(), http::status::ok);
  EXPECT_EQ(Call(http::verb::get, path, "", Login("audit")).msg.result(), http::status::ok);
  EXPECT_EQ(Body(Call(http::verb::get, "/api/v1/instances", "", Login("audit")))
                .at("items").as_array().size(), 1u);
}

TEST_F(RouterTest, AuditorsChangeNothing) {
  std::string a = Login("audit");
  auto r = Call(http::verb::post, "/api/v1/instances", ExpenseBody(), a);
  EXPECT_EQ(r.msg.result(), http::status::forbidden);
  EXPECT_EQ(Code(r), "forbidden_for_role");
  EXPECT_EQ(Call(http::verb::post, "/api/v1/attachments", "x", a).msg.result(),
            http::status::forbidden);
  EXPECT_EQ(Call(http::verb::put, "/api/v1/org", "x", a).msg.result(), http::status::forbidden);
  // Reading is fine, and so is logging out.
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit", "", a).msg.result(), http::status::ok);
  EXPECT_EQ(Call(http::verb::post, "/api/v1/auth/logout", "", a).msg.result(),
            http::status::no_content);
}

TEST_F(RouterTest, AuditQueriesAndProofs) {
  std::string z = Login("zhang_min");
  int64_t id = Submit(z);
  std::string a = Login("audit");
  auto all = Call(http::verb::get, "/api/v1/audit?limit=500", "", a);
  ASSERT_EQ(all.msg.result(), http::status::ok);
  auto items = Body(all).at("items").as_array();
  bool saw_login = false, saw_submit = false;
  for (const auto& e : items) {
    saw_login |= e.at("type").as_string() == "login";
    saw_submit |= e.at("type").as_string() == "submitted";
  }
  EXPECT_TRUE(saw_login);
  EXPECT_TRUE(saw_submit);
  json::value logins = Body(Call(http::verb::get, "/api/v1/audit?action=login", "", a));
  ASSERT_FALSE(logins.at("items").as_array().empty());
  for (const auto& e : logins.at("items").as_array()) {
    EXPECT_EQ(e.at("type").as_string(), "login");
  }
  // A user may read the trail of their own instance, not the whole log.
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit", "", z).msg.result(), http::status::forbidden);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit?instance=" + std::to_string(id), "", z)
                .msg.result(),
            http::status::ok);
  int64_t size = *store_.AuditSize();
  auto inc = Call(http::verb::get,
                  "/api/v1/audit/proof/inclusion?index=0&size=" + std::to_string(size), "", a);
  ASSERT_EQ(inc.msg.result(), http::status::ok) << inc.msg.body();
  EXPECT_EQ(Body(inc).at("root").as_string(), HashHex(*store_.RootAt(size)));
  auto cons = Call(http::verb::get,
                   "/api/v1/audit/proof/consistency?old=1&new=" + std::to_string(size), "", a);
  ASSERT_EQ(cons.msg.result(), http::status::ok) << cons.msg.body();
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit/proof/inclusion?index=" + std::to_string(size),
                 "", a).msg.result(),
            http::status::bad_request);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit/checkpoint", "", a).msg.result(),
            http::status::not_found);
}

TEST_F(RouterTest, BadPathsAndParameters) {
  std::string t = Login("zhang_min");
  auto dots = Call(http::verb::get, "/api/v1/instances/../users", "", t);
  EXPECT_EQ(dots.msg.result(), http::status::bad_request);
  EXPECT_THAT(dots.msg.body(), HasSubstr(".."));
  EXPECT_EQ(Call(http::verb::get, "/api/v1/%2e%2e/x", "", t).msg.result(),
            http::status::bad_request);
  auto unknown = Call(http::verb::get, "/api/v1/instances?colour=red", "", t);
  EXPECT_EQ(unknown.msg.result(), http::status::bad_request);
  EXPECT_THAT(unknown.msg.body(), HasSubstr("'colour'"));
  EXPECT_EQ(Call(http::verb::get, "/api/v1/instances?limit=0", "", t).msg.result(),
            http::status::bad_request);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/instances/abc", "", t).msg.result(),
            http::status::bad_request);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/nothing", "", t).msg.result(), http::status::not_found);
  auto m = Call(http::verb::delete_, "/api/v1/instances", "", t);
  EXPECT_EQ(m.msg.result(), http::status::method_not_allowed);
  EXPECT_EQ(m.msg[http::field::allow], "GET, POST");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/ws", "", t).msg.result(), http::status::bad_request);
}

TEST_F(RouterTest, PerUserRateLimitIs429) {
  RateLimiter tight(1, 2);
  Services s = *services_;
  Services limited{s.engine, s.store, s.auth, tight, s.metrics, s.clock, s.options,
                   s.monotonic_ms, nullptr};
  std::string t = Login("zhang_min");
  Request req;
  req.msg.method(http::verb::get);
  req.msg.target("/api/v1/me");
  req.msg.version(11);
  req.msg.set(http::field::authorization, "Bearer " + t);
  EXPECT_EQ(Route(req, limited).msg.result(), http::status::ok);
  EXPECT_EQ(Route(req, limited).msg.result(), http::status::ok);
  auto r = Route(req, limited);
  EXPECT_EQ(r.msg.result(), http::status::too_many_requests);
  EXPECT_EQ(r.msg[http::field::retry_after], "1");
  mono_ms_ += 1000;
  EXPECT_EQ(Route(req, limited).msg.result(), http::status::ok);
}

TEST_F(RouterTest, WorkflowsCarryFormVersionsAndDiagram) {
  std::string t = Login("zhang_min");
  auto list = Call(http::verb::get, "/api/v1/workflows", "", t);
  ASSERT_EQ(list.msg.result(), http::status::ok);
  EXPECT_GE(Body(list).at("items").as_array().size(), 1u);
  auto wf = Call(http::verb::get, "/api/v1/workflows/expense", "", t);
  ASSERT_EQ(wf.msg.result(), http::status::ok);
  auto b = Body(wf);
  EXPECT_EQ(b.at("version").as_int64(), 1);
  EXPECT_EQ(b.at("versions").as_array().size(), 1u);
  EXPECT_GT(b.at("form").as_array().size(), 3u);
  EXPECT_GT(b.at("diagram").at("edges").as_array().size(), 3u);
  // dual_review's two lines and finance_staff_review's two (计财室's own claims).
  EXPECT_EQ(b.at("diagram").at("lanes").as_array().size(), 4u);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/workflows/expense?version=9", "", t).msg.result(),
            http::status::not_found);
}

TEST_F(RouterTest, AdminsManageUsersAudited) {
  std::string root = Login("root");
  auto add = Call(http::verb::post, "/api/v1/users",
                  R"({"username":"ma_li","role":"user","person":"ma_li","password":"long-enough"})",
                  root);
  ASSERT_EQ(add.msg.result(), http::status::created) << add.msg.body();
  EXPECT_EQ(Body(add).at("person").at("id").as_string(), "ma_li");
  EXPECT_EQ(Call(http::verb::post, "/api/v1/users", R"({"username":"x","person":"ghost"})", root)
                .msg.result(),
            http::status::bad_request);
  auto dup = Call(http::verb::post, "/api/v1/users", R"({"username":"ma_li","person":"ma_li"})",
                  root);
  EXPECT_EQ(dup.msg.result(), http::status::conflict);
  std::string ma = Login("ma_li", "long-enough");
  auto off = Call(http::verb::patch, "/api/v1/users/ma_li", R"({"disabled":true})", root);
  ASSERT_EQ(off.msg.result(), http::status::ok);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/me", "", ma).msg.result(), http::status::unauthorized);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/users", "", Login("zhang_min")).msg.result(),
            http::status::forbidden);
  auto users = Call(http::verb::get, "/api/v1/users", "", root);
  EXPECT_EQ(Body(users).at("items").as_array().size(), 10u);
  bool audited = false;
  store_.ScanAudit(0, [&](const AuditEntry& e) {
    audited |= e.type == "user_added" && e.actor == PersonId("root");
    return true;
  });
  EXPECT_TRUE(audited);
}

TEST_F(RouterTest, AdminsReplaceTheOrganisation) {
  std::string root = Login("root");
  auto bad = Call(http::verb::put, "/api/v1/org", "people: 3\n", root);
  EXPECT_EQ(bad.msg.result(), http::status::bad_request);
  EXPECT_EQ(Code(bad), "invalid_org");
  auto text = ReadTextFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  ASSERT_TRUE(text.has_value());
  auto ok = Call(http::verb::put, "/api/v1/org", *text, root);
  ASSERT_EQ(ok.msg.result(), http::status::ok) << ok.msg.body();
  EXPECT_EQ(Body(ok).at("people").as_array().size(), org_->people.size());
  EXPECT_NE(engine_->org().get(), org_.get());  // the engine got the new value
  EXPECT_EQ(Call(http::verb::put, "/api/v1/org", *text, Login("zhang_min")).msg.result(),
            http::status::forbidden);
  bool audited = false;
  store_.ScanAudit(0, [&](const AuditEntry& e) {
    audited |= e.type == "org_changed";
    return true;
  });
  EXPECT_TRUE(audited);
}

TEST_F(RouterTest, AttachmentsRoundTrip) {
  std::string t = Login("zhang_min");
  auto put = Call(http::verb::post, "/api/v1/attachments", "invoice-scan-bytes", t);
  ASSERT_EQ(put.msg.result(), http::status::created) << put.msg.body();
  std::string hash(Body(put).at("hash").as_string());
  auto get = Call(http::verb::get, "/api/v1/attachments/" + hash, "", Login("audit"));
  ASSERT_EQ(get.msg.result(), http::status::ok);
  EXPECT_EQ(get.msg.body(), "invoice-scan-bytes");
  options_.max_attachment_bytes = 4;
  EXPECT_EQ(Call(http::verb::post, "/api/v1/attachments", "too large", t).msg.result(),
            http::status::payload_too_large);
}

// Attachments are read through an instance that names them, by those who
// may see it; a user who cannot see the instance gets 404, one who names no
// instance 403; auditors read any attachment.
TEST_F(RouterTest, AttachmentDownloadsAreCheckedAgainstTheInstance) {
  std::string clerk = Login("zhang_min");
  std::string hash;
  int64_t with_id = SubmitWithImage(clerk, "", "press-photo-bytes", &hash);
  ASSERT_NE(with_id, 0);
  std::string with = std::to_string(with_id);
  int64_t other = Submit(clerk);  // names no attachment
  std::string url = "/api/v1/attachments/" + hash;

  auto mine = Call(http::verb::get, url + "?instance=" + with, "", clerk);
  ASSERT_EQ(mine.msg.result(), http::status::ok) << mine.msg.body();
  EXPECT_EQ(mine.msg.body(), "press-photo-bytes");

  std::string outsider = Login("xu_lei");  // not involved in the instance
  auto hidden = Call(http::verb::get, url + "?instance=" + with, "", outsider);
  EXPECT_EQ(hidden.msg.result(), http::status::not_found) << hidden.msg.body();
  EXPECT_EQ(Code(hidden), "instance_not_found");
  EXPECT_EQ(hidden.msg.body().find("press-photo"), std::string::npos);

  auto unnamed = Call(http::verb::get, url, "", outsider);
  EXPECT_EQ(unnamed.msg.result(), http::status::forbidden) << unnamed.msg.body();
  EXPECT_EQ(Call(http::verb::get, url, "", clerk).msg.result(), http::status::forbidden);

  // An instance the user may see, but whose form does not name the file.
  auto elsewhere = Call(http::verb::get, url + "?instance=" + std::to_string(other), "", clerk);
  EXPECT_EQ(elsewhere.msg.result(), http::status::not_found);
  EXPECT_EQ(Code(elsewhere), "attachment_not_found");

  std::string auditor = Login("audit");
  auto audited = Call(http::verb::get, url, "", auditor);
  ASSERT_EQ(audited.msg.result(), http::status::ok) << audited.msg.body();
  EXPECT_EQ(audited.msg.body(), "press-photo-bytes");
}

// The file name an attachment was uploaded as (?name=, percent-encoded,
// folder part dropped) comes back with the instances whose form names it;
// the download stays by hash. Bad names are refused before anything is kept.
TEST_F(RouterTest, AttachmentsKeepTheirFileNamesForTheInstancesThatNameThem) {
  std::string clerk = Login("zhang_min");
  auto put = Call(http::verb::post,
                  "/api/v1/attachments?name=C%3A%5Cfakepath%5C%E5%AE%A3%E4%BC%A0%E5%9B%BE.jpg",
                  "poster-bytes", clerk);
  ASSERT_EQ(put.msg.result(), http::status::created) << put.msg.body();
  std::string hash(Body(put).at("hash").as_string());
  EXPECT_EQ(Body(put).at("name").as_string(), "宣传图.jpg");
  auto unnamed = Call(http::verb::post, "/api/v1/attachments", "other-bytes", clerk);
  ASSERT_EQ(unnamed.msg.result(), http::status::created);
  EXPECT_FALSE(Body(unnamed).as_object().contains("name"));
  std::string other(Body(unnamed).at("hash").as_string());

  auto submitted = Call(http::verb::post, "/api/v1/instances",
                        R"({"workflow":"publication","data":{"headline":"通知","channel":"website",)"
                        R"("level":"ordinary","body":"正文","images":[")" + hash + R"(",")" +
                            other + R"("]}})",
                        clerk);
  ASSERT_EQ(submitted.msg.result(), http::status::created) << submitted.msg.body();
  std::string id = std::to_string(Body(submitted).at("id").as_int64());
  auto names = Body(submitted).at("attachment_names").as_object();
  EXPECT_EQ(names.size(), 1u);
  EXPECT_EQ(names.at(hash).as_string(), "宣传图.jpg");
  auto got = Call(http::verb::get, "/api/v1/instances/" + id, "", clerk);
  ASSERT_EQ(got.msg.result(), http::status::ok);
  EXPECT_EQ(Body(got).at("attachment_names").at(hash).as_string(), "宣传图.jpg");
  auto bytes = Call(http::verb::get, "/api/v1/attachments/" + hash + "?instance=" + id, "", clerk);
  EXPECT_EQ(bytes.msg.body(), "poster-bytes");

  for (const char* bad : {"%2F", "a%01b.pdf", "%FF.pdf", "..%2F"}) {
    auto r = Call(http::verb::post, std::string("/api/v1/attachments?name=") + bad, "x", clerk);
    EXPECT_EQ(r.msg.result(), http::status::bad_request) << bad << ": " << r.msg.body();
  }
  auto longer = Call(http::verb::post, "/api/v1/attachments?name=" + std::string(256, 'a'), "x",
                     clerk);
  EXPECT_EQ(longer.msg.result(), http::status::bad_request);
  EXPECT_THAT(Code(longer), ::testing::AnyOf("invalid_field", "bad_request"));
}

// Enum fields carry the labels the workflow file gives their options.
TEST_F(RouterTest, WorkflowFormsCarryEnumOptionLabels) {
  auto r = Call(http::verb::get, "/api/v1/workflows/expense", "", Login("zhang_min"));
  ASSERT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
  const json::value body = Body(r);
  const json::object* category = nullptr;
  for (const auto& f : body.at("form").as_array()) {
    if (f.at("name").as_string() == "category") category = &f.as_object();
  }
  ASSERT_NE(category, nullptr);
  EXPECT_EQ(json::serialize(category->at("options")),
            R"(["travel","meeting","training","reception","office","other"])");
  EXPECT_EQ(json::serialize(category->at("option_labels")),
            R"(["差旅费","会议费","培训费","公务接待费","办公费","其他"])");
  EXPECT_EQ(category->at("option_labels_en").at(0).as_string(), "Travel");
}

// The route table: templates for metrics, 405 with the path's verbs, a
// malformed instance id before the method check, unknown paths 404.
TEST_F(RouterTest, RouteTableAnswersEveryShapeOfPath) {
  std::string t = Login("zhang_min");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/instances/7/events", "", t).route,
            "/api/v1/instances/{id}/events");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/workflows/expense", "", t).route,
            "/api/v1/workflows/{id}");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit/proof/consistency", "", t).route,
            "/api/v1/audit/proof/consistency");
  auto org = Call(http::verb::delete_, "/api/v1/org", "", t);
  EXPECT_EQ(org.msg.result(), http::status::method_not_allowed);
  EXPECT_EQ(org.msg[http::field::allow], "GET, PUT");
  auto act = Call(http::verb::get, "/api/v1/instances/7/actions", "", t);
  EXPECT_EQ(act.msg.result(), http::status::method_not_allowed);
  EXPECT_EQ(act.msg[http::field::allow], "POST");
  EXPECT_EQ(Call(http::verb::delete_, "/api/v1/instances/abc", "", t).msg.result(),
            http::status::bad_request);
  auto unknown = Call(http::verb::get, "/api/v1/instances/7/comments", "", t);
  EXPECT_EQ(unknown.msg.result(), http::status::not_found);
  EXPECT_EQ(unknown.route, "(unknown)");
  EXPECT_EQ(Call(http::verb::get, "/api/v1/audit/proof", "", t).msg.result(),
            http::status::not_found);
  EXPECT_EQ(Call(http::verb::get, "/api/v1/me/x", "", t).msg.result(), http::status::not_found);
  auto me = Call(http::verb::get, "/api/v1/me", "", t);
  EXPECT_EQ(me.msg.result(), http::status::ok);
  EXPECT_EQ(me.route, "/api/v1/me");
}

// The WebSocket upgrade takes its token from ?token= (browsers cannot set
// headers): accepted while valid, refused without one and once expired.
TEST_F(RouterTest, WebSocketTokenInTheQuery) {
  std::string t = Login("zhang_min");
  std::vector<std::pair<std::string, std::string>> upgrade = {
      {"Connection", "Upgrade"},
      {"Upgrade", "websocket"},
      {"Sec-WebSocket-Version", "13"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  auto ok = Call(http::verb::get, "/api/v1/ws?token=" + t, "", "", upgrade);
  EXPECT_TRUE(ok.upgrade_websocket) << ok.msg.body();
  EXPECT_EQ(ok.user, "zhang_min");
  auto none = Call(http::verb::get, "/api/v1/ws", "", "", upgrade);
  EXPECT_FALSE(none.upgrade_websocket);
  EXPECT_EQ(none.msg.result(), http::status::unauthorized);
  // The query token is only for the WebSocket: other paths ignore it.
  EXPECT_EQ(Call(http::verb::get, "/api/v1/me?token=" + t).msg.result(),
            http::status::unauthorized);
  clock_.Advance(int64_t{AuthOptions{}.session_ttl_seconds} * 1000 + 1000);
  auto expired = Call(http::verb::get, "/api/v1/ws?token=" + t, "", "", upgrade);
  EXPECT_FALSE(expired.upgrade_websocket);
  EXPECT_EQ(expired.msg.result(), http::status::unauthorized);
}

TEST_F(RouterTest, MetricsCountRequestsByRoute) {
  auto m = Call(http::verb::get, "/metrics");
  ASSERT_EQ(m.msg.result(), http::status::ok);
  EXPECT_THAT(std::string(m.msg[http::field::content_type]), HasSubstr("text/plain"));
  EXPECT_EQ(Call(http::verb::get, "/api/v1/instances/7", "", Login("zhang_min")).route,
            "/api/v1/instances/{id}");
}

// RouteAsync answers POST /api/v1/instances/{id}/actions as Route does:
// the answer, its route label, and each refusal before the engine (no
// session, an auditor, the rate, a malformed id, a target to decode).
TEST_F(RouterTest, AsyncActionsAnswerLikeRoute) {
  auto async = [&](const Request& req, Services& svc) {
    std::optional<Response> out;
    RouteAsync(req, svc, [&out](Response r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(out.has_value());  // no executor: answered before return
    return out ? std::move(*out) : Response{};
  };
  auto post = [](const std::string& target, const std::string& body,
                 const std::string& token) {
    Request req;
    req.msg.method(http::verb::post);
    req.msg.target(target);
    req.msg.version(11);
    req.msg.body() = body;
    if (!token.empty()) req.msg.set(http::field::authorization, "Bearer " + token);
    req.msg.prepare_payload();
    req.remote = "127.0.0.1";
    req.request_id = "r7";
    return req;
  };
  // Both answers alike, down to every header.
  auto same = [](const Response& a, const Response& b) {
    EXPECT_EQ(a.msg.result(), b.msg.result());
    EXPECT_EQ(a.msg.body(), b.msg.body());
    EXPECT_EQ(a.route, b.route);
    EXPECT_EQ(a.user, b.user);
    std::string ha, hb;
    for (const auto& f : a.msg)
      ha += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
    for (const auto& f : b.msg)
      hb += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
    EXPECT_EQ(ha, hb);
  };
  int64_t id = Submit(Login("zhang_min"));
  std::string path = "/api/v1/instances/" + std::to_string(id) + "/actions";
  std::string lin = Login("lin_xiaoyan");
  std::string approve =
      R"({"action":"approve","node":"dept_head_review","comment":"同意"})";

  // Refusals before the engine, each also by Route.
  for (const std::string& target : std::vector<std::string>{
           path, "/api/v1/instances/0/actions", "/api/v1/instances/00/actions",
           "/api/v1/instances/x1/actions",
           "/api/v1/instances/" + std::to_string(id) + "/actions/",
           "/api/v1/instances/" + std::to_string(id) + "/action",
           "/api/v1/instances/1234567890123456789/actions",
           "/api/v1/instances//actions"}) {
    SCOPED_TRACE(target);
    same(async(post(target, approve, ""), *services_),
         Route(post(target, approve, ""), *services_));
    same(async(post(target, approve, Login("audit")), *services_),
         Route(post(target, approve, Login("audit")), *services_));
  }
  auto unauth = async(post(path, approve, ""), *services_);
  EXPECT_EQ(unauth.msg.result(), http::status::unauthorized);
  EXPECT_EQ(unauth.route, "/api/v1/(authenticated)");
  EXPECT_EQ(unauth.msg[http::field::www_authenticate], "Bearer realm=\"approvald\"");
  auto auditor = async(post(path, approve, Login("audit")), *services_);
  EXPECT_EQ(auditor.msg.result(), http::status::forbidden);
  EXPECT_EQ(auditor.route, "/api/v1/(auditor write)");
  EXPECT_EQ(
      async(post("/api/v1/instances/0/actions", approve, lin), *services_).msg.result(),
      http::status::bad_request);

  // The rate: one request a second, a burst of one.
  RateLimiter tight(1, 1);
  Services limited{services_->engine,
                   services_->store,
                   services_->auth,
                   tight,
                   services_->metrics,
                   services_->clock,
                   services_->options,
                   services_->monotonic_ms,
                   nullptr};
  auto bad = R"({"action":"approve","sparkle":true})";
  auto first = async(post(path, bad, lin), limited);
  EXPECT_EQ(first.msg.result(), http::status::bad_request);  // counted, then refused
  auto limited_async = async(post(path, bad, lin), limited);
  mono_ms_ += 1000;
  ASSERT_EQ(Route(post(path, bad, lin), limited).msg.result(), http::status::bad_request);
  auto limited_sync = Route(post(path, bad, lin), limited);
  EXPECT_EQ(limited_async.msg.result(), http::status::too_many_requests);
  same(limited_async, limited_sync);

  // The action itself: the answer is the view the actor reads next.
  auto done = async(post(path, approve, lin), *services_);
  ASSERT_EQ(done.msg.result(), http::status::ok) << done.msg.body();
  EXPECT_EQ(done.route, "/api/v1/instances/{id}/actions");
  EXPECT_EQ(done.user, "lin_xiaoyan");
  EXPECT_EQ(done.msg["X-Request-Id"], "r7");
  auto read = Call(http::verb::get, "/api/v1/instances/" + std::to_string(id), "", lin);
  EXPECT_EQ(done.msg.body(), read.msg.body());
  // Acting again on the node already decided: the engine's refusal, alike.
  same(async(post(path, approve, lin), *services_),
       Route(post(path, approve, lin), *services_));
}

// With sessions cached, as the daemon runs.
class CachedRouteTest : public RouterFixture {
 protected:
  CachedRouteTest()
      : RouterFixture({Timestamp{1'764'300'000'000}, {"zhang_min", "xu_lei"}, true, 60'000}) {}

  static Request Get(const std::string& target, const std::string& token) {
    Request req;
    req.msg.method(http::verb::get);
    req.msg.target(target);
    req.msg.version(11);
    req.msg.set(http::field::authorization, "Bearer " + token);
    req.remote = "127.0.0.1";
    req.request_id = "t";
    return req;
  }
  // Submits an expense claim as the clerk whose token is given; its path.
  std::string Submit(const std::string& clerk) {
    auto created = Call(http::verb::post, "/api/v1/instances",
                        R"({"workflow":"expense","data":{"purpose":"文具","category":"office",)"
                        R"("amount":35600,"spent_on":"2025-11-20",)"
                        R"("invoices":[{"number":"FP-1","amount":35600}]}})",
                        clerk);
    EXPECT_EQ(created.msg.result(), http::status::created) << created.msg.body();
    return "/api/v1/instances/" + std::to_string(Body(created).at("id").as_int64());
  }
};

// RouteCached answers GET /api/v1/instances/{id} from the cached session and
// state exactly as Route does (also the 404 of a hidden instance), and leaves
// every other request to Route.
TEST_F(CachedRouteTest, AnswersCachedInstanceReadsLikeRoute) {
  std::string clerk = Login("zhang_min");
  std::string path = Submit(clerk);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(Call(http::verb::get, "/api/v1/me", "", clerk).msg.result(), http::status::ok);

  Request req = Get(path, clerk);
  auto fast = RouteCached(req, *services_);
  ASSERT_TRUE(fast.has_value());
  Response slow = Route(req, *services_);
  EXPECT_EQ(fast->msg.result(), http::status::ok);
  EXPECT_EQ(fast->msg.body(), slow.msg.body());
  EXPECT_EQ(fast->route, "/api/v1/instances/{id}");
  EXPECT_EQ(fast->user, "zhang_min");
  EXPECT_EQ(fast->msg["X-Request-Id"], "t");

  std::string other = Login("xu_lei");
  ASSERT_EQ(Call(http::verb::get, "/api/v1/me", "", other).msg.result(), http::status::ok);
  auto hidden = RouteCached(Get(path, other), *services_);
  ASSERT_TRUE(hidden.has_value());
  EXPECT_EQ(hidden->msg.result(), http::status::not_found);
  EXPECT_EQ(hidden->msg.body(), Route(Get(path, other), *services_).msg.body());

  Request post = Get(path, clerk);
  post.msg.method(http::verb::post);
  EXPECT_FALSE(RouteCached(post, *services_).has_value());
  EXPECT_FALSE(RouteCached(Get(path + "?x=1", clerk), *services_).has_value());
  EXPECT_FALSE(RouteCached(Get(path + "/events", clerk), *services_).has_value());
  EXPECT_FALSE(RouteCached(Get("/api/v1/instances/999", clerk), *services_).has_value());
  EXPECT_FALSE(RouteCached(Get(path, "not-a-session"), *services_).has_value());
  // After logout the session is no longer cached: Route gives the 401.
  ASSERT_EQ(Call(http::verb::post, "/api/v1/auth/logout", "", clerk).msg.result(),
            http::status::no_content);
  EXPECT_FALSE(RouteCached(Get(path, clerk), *services_).has_value());
}

// GET /api/v1/instances/{id} writes the viewer-independent head of the view
// once per snapshot and organisation (ViewHeadCache) and the viewer's
// actions per request: every answer is the one written without the cache.
class ViewHeadTest : public CachedRouteTest {
 protected:
  // RouteCached's answer, which must be there and be what Route answers
  // with no head cache at all.
  std::string Cached(const std::string& path, const std::string& token) {
    auto fast = RouteCached(Get(path, token), *services_);
    EXPECT_TRUE(fast.has_value());
    if (!fast) return "";
    Services uncached = *services_;
    uncached.view_heads = nullptr;
    Response slow = Route(Get(path, token), uncached);
    EXPECT_EQ(fast->msg.result(), slow.msg.result());
    EXPECT_EQ(fast->msg.body(), slow.msg.body());
    EXPECT_EQ(fast->msg[http::field::content_length], slow.msg[http::field::content_length]);
    // And Route with the cache answers the same.
    EXPECT_EQ(Route(Get(path, token), *services_).msg.body(), slow.msg.body());
    return fast->msg.body();
  }
  static std::vector<std::string> Actions(const std::string& body) {
    std::vector<std::string> out;
    boost::json::value view = boost::json::parse(body);
    for (const auto& a : view.at("actions").as_array()) {
      out.emplace_back(a.at("action").as_string());
    }
    return out;
  }
  ViewHeadCache& heads() { return *services_->view_heads; }
};

TEST_F(ViewHeadTest, OneHeadServesEveryViewer) {
  std::string clerk = Login("zhang_min");
  std::string path = Submit(clerk);
  ASSERT_TRUE(auth_.AddUser("lin_xiaoyan", Role::kUser, PersonId("lin_xiaoyan"), "password-1",
                            "test")
                  .has_value());
  std::string head = Login("lin_xiaoyan");
  ASSERT_EQ(Call(http::verb::get, "/api/v1/me", "", head).msg.result(), http::status::ok);
  std::string mine = Cached(path, clerk);
  int64_t hits = heads().hits();
  int64_t misses = heads().misses();
  std::string theirs = Cached(path, head);
  EXPECT_EQ(heads().hits(), hits + 2);  // RouteCached's and Route's, one each
  EXPECT_EQ(heads().misses(), misses);
  // Each viewer gets their own actions after the shared head.
  EXPECT_THAT(Actions(mine), ::testing::Contains("withdraw"));
  EXPECT_THAT(Actions(mine), ::testing::Not(::testing::Contains("approve")));
  EXPECT_THAT(Actions(theirs), ::testing::Contains("approve"));
  EXPECT_THAT(Actions(theirs), ::testing::Not(::testing::Contains("withdraw")));
  // One who may not see it gets the 404.
  std::string other = Login("xu_lei");
  ASSERT_EQ(Call(http::verb::get, "/api/v1/me", "", other).msg.result(), http::status::ok);
  auto hidden = RouteCached(Get(path, other), *services_);
  ASSERT_TRUE(hidden.has_value());
  EXPECT_EQ(hidden->msg.result(), http::status::not_found);
}

// An instance whose form names attachments is read through Route (their
// names come from the store), also once its head is cached.
TEST_F(ViewHeadTest, AFormWithAttachmentsIsLeftToRoute) {
  std::string clerk = Login("zhang_min");
  std::string hash;
  int64_t id = SubmitWithImage(clerk, "?name=poster.jpg", "poster-bytes", &hash);
  ASSERT_NE(id, 0);
  std::string path = "/api/v1/instances/" + std::to_string(id);
  for (int i = 0; i < 2; ++i) {  // the first read caches the head
    EXPECT_FALSE(RouteCached(Get(path, clerk), *services_).has_value()) << i;
    auto read = Route(Get(path, clerk), *services_);
    ASSERT_EQ(read.msg.result(), http::status::ok);
    EXPECT_EQ(Body(read).at("attachment_names").at(hash).as_string(), "poster.jpg");
  }
  // A form without: answered from memory.
  std::string plain = Submit(clerk);
  Cached(plain, clerk);
  EXPECT_TRUE(RouteCached(Get(plain, clerk), *services_).has_value());
}

TEST_F(ViewHeadTest, ANewVersionGetsANewHead) {
  std::string clerk = Login("zhang_min");
  std::string path = Submit(clerk);
  std::string before = Cached(path, clerk);
  auto acted = Call(http::verb::post, path + "/actions",
                    R"({"action":"comment","comment":"补充说明"})", clerk);
  ASSERT_EQ(acted.msg.result(), http::status::ok) << acted.msg.body();
  std::string after = Cached(path, clerk);
  EXPECT_NE(after, before);
  EXPECT_EQ(boost::json::parse(after).at("version"), Body(acted).at("version"));
}

TEST_F(ViewHeadTest, ActionsAreDecidedAtTheTimeOfTheRead) {
  std::string clerk = Login("zhang_min");
  std::string path = Submit(clerk);
  auto urged = Call(http::verb::post, path + "/actions", R"({"action":"urge"})", clerk);
  ASSERT_EQ(urged.msg.result(), http::status::ok) << urged.msg.body();
  // Urging again waits for the urge interval: same snapshot, other times.
  EXPECT_THAT(Actions(Cached(path, clerk)), ::testing::Not(::testing::Contains("urge")));
  clock_.Advance(DecideContext{}.urge_interval_ms);
  // The session's memory expired meanwhile: a read through Route refills it.
  ASSERT_EQ(Call(http::verb::get, "/api/v1/me", "", clerk).msg.result(), http::status::ok);
  EXPECT_THAT(Actions(Cached(path, clerk)), ::testing::Contains("urge"));
}

TEST_F(ViewHeadTest, ANewOrganisationGetsANewHead) {
  std::string clerk = Login("zhang_min");
  std::string path = Submit(clerk);
  std::string before = Cached(path, clerk);
  EXPECT_NE(before.find("张敏"), std::string::npos);
  auto text = ReadTextFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  ASSERT_TRUE(text.has_value());
  std::string renamed = *text;
  size_t at = renamed.find("name: 张敏,");
  ASSERT_NE(at, std::string::npos);
  renamed.replace(at, std::string("name: 张敏,").size(), "name: 张敏华,");
  auto put = Call(http::verb::put, "/api/v1/org", renamed, Login("root"));
  ASSERT_EQ(put.msg.result(), http::status::ok) << put.msg.body();
  std::string after = Cached(path, clerk);
  EXPECT_NE(after.find("张敏华"), std::string::npos);
}

}  // namespace
}  // namespace approvald::api
