// api/static_files: content types, caching headers, the CSP, ETag
// revalidation, HEAD, and refusal of everything outside the web root.
#include "api/static_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace approvald::api {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("approvald-static-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    root_ = dir_ / "dist";
    Write(root_ / "index.html", "<!doctype html><title>ui</title>");
    Write(root_ / "assets" / "app-3F2KQ7XZ.js", "console.log(1)");
    Write(root_ / "assets" / "style-AB12CD34.css", "body{}");
    Write(root_ / "plain.js", "x");
    Write(root_ / ".env", "secret");
    Write(dir_ / "outside.txt", "outside the root");
  }
  void TearDown() override { fs::remove_all(dir_); }

  http::response<http::string_body> Get(std::vector<std::string> segs,
                                        http::verb verb = http::verb::get,
                                        std::string if_none_match = "") {
    http::request<http::string_body> req{verb, "/", 11};
    if (!if_none_match.empty()) req.set(http::field::if_none_match, if_none_match);
    return ServeStaticFile(root_.string(), req, segs);
  }

  fs::path dir_;
  fs::path root_;
};

TEST(ContentTypeForTest, KnownExtensionsAndFallback) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("app-X.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("a.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.exe"), "application/octet-stream");
}

TEST(IsHashedAssetNameTest, NeedsADashAndEightAlphanumerics) {
  EXPECT_TRUE(IsHashedAssetName("app-3F2KQ7XZ.js"));
  EXPECT_TRUE(IsHashedAssetName("style-ab12cd34ef.css"));
  EXPECT_FALSE(IsHashedAssetName("index.html"));
  EXPECT_FALSE(IsHashedAssetName("app-1234567.js"));    // 7 characters
  EXPECT_FALSE(IsHashedAssetName("app-3F2K_7XZ.js"));   // not alphanumeric
  EXPECT_FALSE(IsHashedAssetName("-3F2KQ7XZ.js"));      // no name
  EXPECT_FALSE(IsHashedAssetName("app-3F2KQ7XZ"));      // no extension
}

TEST_F(StaticFilesTest, RootIsIndexHtmlNeverCached) {
  auto res = Get({});
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[http::field::cache_control], "no-cache");
  EXPECT_EQ(res.body(), "<!doctype html><title>ui</title>");
  EXPECT_FALSE(res[http::field::etag].empty());
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
}

TEST_F(StaticFilesTest, EveryAnswerCarriesTheCspAndNosniff) {
  for (auto res : {Get({}), Get({"assets", "app-3F2KQ7XZ.js"}), Get({"missing.js"})}) {
    std::string csp(res["Content-Security-Policy"]);
    EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
    EXPECT_THAT(csp, HasSubstr("object-src 'none'"));
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(csp, ::testing::Not(HasSubstr("unsafe-inline")));
    EXPECT_THAT(csp, ::testing::Not(HasSubstr("unsafe-eval")));
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  }
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableOthersRevalidated) {
  auto js = Get({"assets", "app-3F2KQ7XZ.js"});
  EXPECT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js[http::field::cache_control], "public, max-age=31536000, immutable");
  auto css = Get({"assets", "style-AB12CD34.css"});
  EXPECT_EQ(css[http::field::content_type], "text/css; charset=utf-8");
  EXPECT_THAT(std::string(css[http::field::cache_control]), HasSubstr("immutable"));
  auto plain = Get({"plain.js"});
  EXPECT_EQ(plain[http::field::cache_control], "no-cache");
}

TEST_F(StaticFilesTest, MatchingEtagAnswers304WithoutBody) {
  auto first = Get({});
  std::string etag(first[http::field::etag]);
  auto again = Get({}, http::verb::get, etag);
  EXPECT_EQ(again.result(), http::status::not_modified);
  EXPECT_TRUE(again.body().empty());
  auto other = Get({}, http::verb::get, "\"something-else\"");
  EXPECT_EQ(other.result(), http::status::ok);
}

TEST_F(StaticFilesTest, HeadHasLengthButNoBody) {
  auto res = Get({"assets", "app-3F2KQ7XZ.js"}, http::verb::head);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.body().empty());
  EXPECT_EQ(res[http::field::content_length], "14");
}

TEST_F(StaticFilesTest, OtherMethodsAre405) {
  auto res = Get({}, http::verb::post);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

TEST_F(StaticFilesTest, MissingFileIs404InTheErrorShape) {
  auto res = Get({"assets", "nope-12345678.js"});
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_THAT(res.body(), HasSubstr("\"code\":\"file_not_found\""));
  EXPECT_EQ(Get({"assets"}).result(), http::status::not_found);  // a directory
}

TEST_F(StaticFilesTest, TraversalAndHiddenFilesAreRefused) {
  for (std::vector<std::string> segs : std::vector<std::vector<std::string>>{
           {"..", "outside.txt"},
           {"assets", "..", "..", "outside.txt"},
           {".", "index.html"},
           {"..%2Foutside.txt"},
           {"../outside.txt"},         // a decoded %2F inside one segment
           {"assets\\..\\..\\outside.txt"},
           {std::string("index.html\0x", 12)},
           {".env"},
           {""},
       }) {
    auto res = Get(segs);
    EXPECT_EQ(res.result(), http::status::not_found) << segs.front();
    EXPECT_THAT(res.body(), ::testing::Not(HasSubstr("outside the root")));
    EXPECT_THAT(res.body(), ::testing::Not(HasSubstr("secret")));
  }
}

TEST_F(StaticFilesTest, SymlinkLeavingTheRootIsRefused) {
  fs::create_symlink(dir_ / "outside.txt", root_ / "link.txt");
  auto res = Get({"link.txt"});
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_THAT(res.body(), ::testing::Not(HasSubstr("outside the root")));
}

TEST_F(StaticFilesTest, MissingRootSaysTheUiIsNotBuilt) {
  http::request<http::string_body> req{http::verb::get, "/", 11};
  auto res = ServeStaticFile((dir_ / "no-such-dir").string(), req, {});
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_THAT(res.body(), HasSubstr("web_root"));
  auto unset = ServeStaticFile("", req, {});
  EXPECT_EQ(unset.result(), http::status::not_found);
}

}  // namespace
}  // namespace approvald::api
