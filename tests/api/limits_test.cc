// RateLimiter::Allow(prefix, name): the per-request form of Allow(key) that
// builds no key string shares the bucket of prefix + name.
#include <gtest/gtest.h>

#include "api/limits.h"

namespace approvald::api {
namespace {

TEST(RateLimiterPrefixTest, PrefixAndNameShareTheBucketOfTheirConcatenation) {
  RateLimiter r(10, 2);  // 10/s, burst 2
  int64_t retry = 0;
  EXPECT_TRUE(r.Allow("user:", "wang", 0, &retry));
  EXPECT_TRUE(r.Allow(std::string("user:wang"), 0, &retry));  // the same bucket
  EXPECT_FALSE(r.Allow("user:", "wang", 0, &retry));
  EXPECT_EQ(retry, 100);
  EXPECT_FALSE(r.Allow(std::string("user:wang"), 50, &retry));
  EXPECT_EQ(retry, 50);
  // Other names, and a name that only extends the last key, have their own.
  EXPECT_TRUE(r.Allow("user:", "li", 0, &retry));
  EXPECT_TRUE(r.Allow("user:", "wangx", 0, &retry));
  EXPECT_TRUE(r.Allow("user:", "", 0, &retry));
  EXPECT_TRUE(r.Allow("user:", "wang", 100, &retry));  // one token back after 100 ms
  EXPECT_FALSE(r.Allow("user:", "wang", 100, &retry));
}

}  // namespace
}  // namespace approvald::api
