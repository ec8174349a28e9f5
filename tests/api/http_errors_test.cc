#include "api/http_errors.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace approvald::api
