#include "api/view_head_cache.h"

#include <gtest/gtest.h>

namespace approvald::api {
namespace {

std::shared_ptr<const CachedInstance> Snapshot(int64_t id, int64_t version) {
  auto s = std::make_shared<CachedInstance>();
  s->state.id = InstanceId{id};
  s->state.version = version;
  return s;
}

TEST(ViewHeadCacheTest, AnswersOnlyForTheSnapshotAndOrganisationItWasWrittenFrom) {
  ViewHeadCache cache;
  auto org = std::make_shared<const Org>();
  auto v1 = Snapshot(7, 1);
  std::string out = "x";
  EXPECT_FALSE(cache.AppendTo(v1, org, &out));
  cache.Put(v1, org, "{head-1");
  EXPECT_TRUE(cache.AppendTo(v1, org, &out));
  EXPECT_EQ(out, "x{head-1");
  // Equal contents are not enough: another snapshot object of the same
  // instance and version (reloaded from the store) is written anew.
  EXPECT_FALSE(cache.AppendTo(Snapshot(7, 1), org, &out));
  EXPECT_FALSE(cache.AppendTo(v1, std::make_shared<const Org>(), &out));
  auto v2 = Snapshot(7, 2);
  cache.Put(v2, org, "{head-2");
  EXPECT_FALSE(cache.AppendTo(v1, org, &out));  // replaced
  out.clear();
  EXPECT_TRUE(cache.AppendTo(v2, org, &out));
  EXPECT_EQ(out, "{head-2");
  EXPECT_EQ(cache.bytes(), 7u);
}

TEST(ViewHeadCacheTest, KeepsNothingAliveAndNeverMatchesAFreedSnapshot) {
  ViewHeadCache cache;
  auto org = std::make_shared<const Org>();
  auto v1 = Snapshot(3, 1);
  std::weak_ptr<const CachedInstance> watch = v1;
  cache.Put(v1, org, "{old");
  v1.reset();
  EXPECT_TRUE(watch.expired());
  // A new snapshot (possibly at the freed address) does not match.
  auto again = Snapshot(3, 1);
  std::string out;
  EXPECT_FALSE(cache.AppendTo(again, org, &out));
  EXPECT_TRUE(out.empty());
}

TEST(ViewHeadCacheTest, StaysWithinItsBytes) {
  ViewHeadCache cache(/*max_bytes=*/100, /*shards=*/1);
  auto org = std::make_shared<const Org>();
  std::vector<std::shared_ptr<const CachedInstance>> snaps;
  for (int64_t id = 1; id <= 20; ++id) {
    snaps.push_back(Snapshot(id, 1));
    cache.Put(snaps.back(), org, std::string(30, 'h'));
    EXPECT_LE(cache.bytes(), 100u);
  }
  std::string out;
  EXPECT_TRUE(cache.AppendTo(snaps.back(), org, &out));  // the newest is kept
  cache.Put(Snapshot(99, 1), org, std::string(101, 'h'));  // larger than the cache
  EXPECT_LE(cache.bytes(), 100u);
}

TEST(ViewHeadCacheTest, DropsTheHeadsOfFreedSnapshotsBeforeLiveOnes) {
  ViewHeadCache cache(/*max_bytes=*/100, /*shards=*/1);
  auto org = std::make_shared<const Org>();
  std::vector<std::shared_ptr<const CachedInstance>> live;
  for (int64_t id = 1; id <= 10; ++id) {
    auto snap = Snapshot(id, 1);
    cache.Put(snap, org, std::string(10, 'h'));
    if (id % 2 == 1) live.push_back(snap);  // the even ones are freed here
  }
  EXPECT_EQ(cache.bytes(), 100u);
  // The cache is full; the five heads whose snapshot is gone make room for
  // five new ones, and every live head stays.
  for (int64_t id = 11; id <= 15; ++id) {
    live.push_back(Snapshot(id, 1));
    cache.Put(live.back(), org, std::string(10, 'h'));
  }
  EXPECT_EQ(cache.bytes(), 100u);
  for (const auto& snap : live) {
    std::string out;
    EXPECT_TRUE(cache.AppendTo(snap, org, &out)) << "instance " << snap->state.id.value;
  }
}

// The shard looks for freed snapshots' heads when it first fills and then
// only after half as many heads as it holds were put since; heads freed
// after a look that found none still go before live ones within that many
// puts.
TEST(ViewHeadCacheTest, LooksForFreedHeadsAgainAfterHalfItsEntriesWerePut) {
  ViewHeadCache cache(/*max_bytes=*/160, /*shards=*/1);
  auto org = std::make_shared<const Org>();
  std::vector<std::shared_ptr<const CachedInstance>> snaps;
  for (int64_t id = 1; id <= 16; ++id) {
    snaps.push_back(Snapshot(id, 1));
    cache.Put(snaps.back(), org, std::string(10, 'h'));
  }
  EXPECT_EQ(cache.bytes(), 160u);
  // Full, and every snapshot alive: the look finds none, a live head goes.
  snaps.push_back(Snapshot(17, 1));
  cache.Put(snaps.back(), org, std::string(10, 'h'));
  EXPECT_EQ(cache.bytes(), 160u);
  // Eight snapshots are freed now. Within 16 / 2 = 8 more puts the shard
  // looks again and drops the heads of those still held, which frees more
  // than it needs.
  for (size_t i = 0; i < 8; ++i) snaps[i].reset();
  bool dropped = false;
  for (int64_t id = 18; id <= 27 && !dropped; ++id) {
    snaps.push_back(Snapshot(id, 1));
    cache.Put(snaps.back(), org, std::string(10, 'h'));
    dropped = cache.bytes() < 160u;
  }
  EXPECT_TRUE(dropped);
}

// One look-up gives a reader that answers attachment-holding views elsewhere
// both the head and whether the form holds attachments; only an appended
// head counts (as a hit).
TEST(ViewHeadCacheTest, AppendsTheHeadUnlessTheFormHoldsAttachments) {
  ViewHeadCache cache;
  auto org = std::make_shared<const Org>();
  auto plain = Snapshot(1, 1);
  auto with = Snapshot(2, 1);
  using Found = ViewHeadCache::Found;
  std::string out = "x";
  EXPECT_EQ(cache.AppendUnlessAttachments(plain, org, &out), Found::kNone);
  cache.Put(plain, org, "{p");
  cache.Put(with, org, "{w", /*attachments=*/true);
  EXPECT_EQ(cache.AppendUnlessAttachments(with, org, &out), Found::kAttachments);
  EXPECT_EQ(out, "x");
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(cache.AppendUnlessAttachments(plain, org, &out), Found::kAppended);
  EXPECT_EQ(out, "x{p");
  EXPECT_EQ(cache.hits(), 1);
  // Only for the very snapshot and organisation.
  EXPECT_EQ(cache.AppendUnlessAttachments(Snapshot(2, 1), org, &out), Found::kNone);
  EXPECT_EQ(cache.AppendUnlessAttachments(with, std::make_shared<const Org>(), &out),
            Found::kNone);
  EXPECT_EQ(out, "x{p");
  // Finding none counts no miss: the reader that writes the head does.
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 0);
  // AppendTo still gives the head of an attachment-holding form.
  out.clear();
  EXPECT_TRUE(cache.AppendTo(with, org, &out));
  EXPECT_EQ(out, "{w");
}

}  // namespace
}  // namespace approvald::api
