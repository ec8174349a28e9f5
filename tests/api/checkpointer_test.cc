// The daemon's checkpoint schedule (issue 3: "a checkpoint at least every N
// events or T seconds").
#include "api/checkpointer.h"

#include <gtest/gtest.h>

#include "store/memory/memory_store.h"

namespace approvald::api {
namespace {

constexpr char kOrigin[] = "approvald/test-unit";

class CheckpointerTest : public ::testing::Test {
 protected:
  void Add(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(store_
                      .AppendAudit(AuditRecord{
                          clock_.Now(), "login", PersonId("li"), "user:li", {}})
                      .has_value());
    }
  }
  std::vector<Checkpoint> Checkpoints() { return store_.ListCheckpoints().value(); }

  MemoryStore store_;
  audit::SigningKey key_ = audit::SigningKey::Generate().value();
  FakeClock clock_{Timestamp{1700000000000}};
};

TEST_F(CheckpointerTest, SignsAfterEveryNEvents) {
  Checkpointer cp(store_, key_, kOrigin, clock_, 3, 3600);
  EXPECT_FALSE(cp.MaybeSign(false)) << "an empty log needs no checkpoint";
  Add(1);
  // The first checkpoint: with none stored, the time since "never" counts.
  ASSERT_TRUE(cp.MaybeSign(false));
  Add(2);
  EXPECT_FALSE(cp.MaybeSign(false)) << "2 of 3 events, no time passed";
  Add(1);
  ASSERT_TRUE(cp.MaybeSign(false)) << "3 events since the last checkpoint";
  auto cps = Checkpoints();
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[1].size, 4);
  EXPECT_EQ(cps[1].root, store_.RootAt(4).value());
  EXPECT_EQ(cps[1].at.ms, clock_.Now().ms);
  EXPECT_TRUE(audit::VerifyCheckpoint(audit::LogKey{kOrigin, key_.public_key()}, cps[1]));
  EXPECT_FALSE(cp.MaybeSign(false)) << "nothing new since";
  Add(3);
  EXPECT_TRUE(cp.MaybeSign(false));
  EXPECT_EQ(Checkpoints().back().size, 7);
}

TEST_F(CheckpointerTest, SignsAfterTSecondsWhileTheLogGrows) {
  Checkpointer cp(store_, key_, kOrigin, clock_, 1000, 60);
  Add(1);
  // The first checkpoint: no earlier one, so the time since "never" counts.
  ASSERT_TRUE(cp.MaybeSign(false));
  Add(1);
  clock_.Advance(59'999);
  EXPECT_FALSE(cp.MaybeSign(false)) << "1 event, 59.999 s";
  clock_.Advance(1);
  ASSERT_TRUE(cp.MaybeSign(false)) << "60 s since the last checkpoint";
  EXPECT_EQ(Checkpoints().back().size, 2);
  // Time alone signs nothing when the log did not grow.
  clock_.Advance(3'600'000);
  EXPECT_FALSE(cp.MaybeSign(false));
  EXPECT_EQ(Checkpoints().size(), 2u);
}

TEST_F(CheckpointerTest, ForceSignsWheneverTheLogGrew) {
  Checkpointer cp(store_, key_, kOrigin, clock_, 1000, 3600);
  EXPECT_FALSE(cp.MaybeSign(true)) << "empty log";
  Add(1);
  ASSERT_TRUE(cp.MaybeSign(false));  // first checkpoint
  Add(1);
  EXPECT_FALSE(cp.MaybeSign(false));
  EXPECT_TRUE(cp.MaybeSign(true));
  EXPECT_FALSE(cp.MaybeSign(true)) << "nothing new since";
}

TEST_F(CheckpointerTest, ScheduleContinuesFromTheLatestStoredCheckpointAfterARestart) {
  {
    Checkpointer cp(store_, key_, kOrigin, clock_, 3, 60);
    Add(3);
    ASSERT_TRUE(cp.MaybeSign(false));
  }
  Checkpointer restarted(store_, key_, kOrigin, clock_, 3, 60);
  Add(2);
  EXPECT_FALSE(restarted.MaybeSign(false))
      << "2 events and 0 s since the stored checkpoint";
  clock_.Advance(60'000);
  EXPECT_TRUE(restarted.MaybeSign(false));
  EXPECT_EQ(Checkpoints().back().size, 5);
}

}  // namespace
}  // namespace approvald::api
