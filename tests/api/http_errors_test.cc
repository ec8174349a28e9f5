#include "api/http_errors.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace approvald::api {
namespace {

TEST(HttpErrorsTest, EngineCodesMapToStatuses) {
  EXPECT_EQ(HttpStatusOf({ErrorCode::kInvalidArgument, "x", ""}), http::status::bad_request);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kNotFound, "x", ""}), http::status::not_found);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kPermissionDenied, "x", ""}), http::status::forbidden);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kConflict, "stale_version", ""}), http::status::conflict);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kRejected, "self_approval", ""}),
            http::status::unprocessable_entity);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kUnavailable, "x", ""}),
            http::status::service_unavailable);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kInternal, "x", ""}),
            http::status::internal_server_error);
}

TEST(HttpErrorsTest, ApiReasonsRefineTheCode) {
  EXPECT_EQ(HttpStatusOf({ErrorCode::kPermissionDenied, api_reason::kUnauthenticated, ""}),
            http::status::unauthorized);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kPermissionDenied, api_reason::kInvalidCredentials, ""}),
            http::status::unauthorized);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kUnavailable, api_reason::kRateLimited, ""}),
            http::status::too_many_requests);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kInvalidArgument, api_reason::kPayloadTooLarge, ""}),
            http::status::payload_too_large);
  EXPECT_EQ(HttpStatusOf({ErrorCode::kInvalidArgument, api_reason::kHeadersTooLarge, ""}),
            http::status::request_header_fields_too_large);
}

TEST(HttpErrorsTest, OneBodyShape) {
  auto res = ErrorResponse({ErrorCode::kRejected, "self_approval", "you submitted it \"here\""},
                           11, true, 0);
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res.body(),
            R"({"error":{"code":"self_approval","message":"you submitted it \"here\""}})");
  auto limited = ErrorResponse({ErrorCode::kUnavailable, api_reason::kRateLimited, "slow"}, 11,
                               true, 3);
  EXPECT_EQ(limited[http::field::retry_after], "3");
  // Without a reason the code's name is used.
  EXPECT_NE(ErrorBody({ErrorCode::kNotFound, "", "m"}).find("\"code\":\""), std::string::npos);
}

// A message quoting a broken byte of the client's input (found by the
// json_request fuzzer: PUT /org with a YAML escape cut inside a character)
// still makes a body that is valid UTF-8 and so valid JSON.
TEST(HttpErrorsTest, BodyIsValidJsonWhateverTheMessageQuotes) {
  std::string body =
      ErrorBody({ErrorCode::kInvalidArgument, "invalid_org", "unknown escape character: \xe4 x"});
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(v.at("error").at("message").as_string(), "unknown escape character: \xEF\xBF\xBD x");
}

}  // namespace
}  // namespace approvald::api
