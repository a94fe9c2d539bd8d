#include "store/sql/lookup_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace weft::sql {
namespace {

// A cache on a fake database epoch and a fake clock; `recheck` 0 (read the epoch at every lookup) unless given.
struct Fixture {
    explicit Fixture(std::chrono::milliseconds recheck = std::chrono::milliseconds(0))
        : cache(
              [this]() -> Result<std::int64_t> {
                  ++epoch_reads;
                  if (!database_answers) return Error::Unavailable("down");
                  return epoch;
              },
              recheck, [this] { return now; }) {}
    std::int64_t epoch = 1;
    bool database_answers = true;
    int epoch_reads = 0;
    LookupCache::TimePoint now{std::chrono::hours(1)};
    LookupCache cache;

    static PartnerCredentials Creds(const std::string& name) {
        PartnerCredentials c;
        c.partner.name = name;
        return c;
    }
    void Keep(const std::string& key, const std::string& name) {
        cache.PutCredentials(key, Creds(name), cache.Begin());
    }
    std::optional<std::string> Lookup(const std::string& key) {
        cache.Begin();
        auto hit = cache.FindCredentials(key);
        return hit ? std::optional<std::string>(hit->partner.name) : std::nullopt;
    }
};

TEST(LookupCacheTest, KeepsValuesWhileTheEpochStaysAndLooksAtItForEveryLookup) {
    Fixture f;
    f.Keep("p", "first");
    EXPECT_EQ(f.Lookup("p"), "first");
    EXPECT_EQ(f.Lookup("p"), "first");
    EXPECT_EQ(f.epoch_reads, 3);
    f.epoch = 2;  // someone changed something
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "the next lookup finds the cache emptied";
    f.Keep("p", "second");
    EXPECT_EQ(f.Lookup("p"), "second");
}

TEST(LookupCacheTest, AValueReadBeforeTheEpochMovedIsNotKept) {
    Fixture f;
    f.Keep("p", "first");
    const auto generation = f.cache.Begin();  // a lookup begins and reads the database...
    f.epoch = 2;                              // ...a change commits...
    EXPECT_EQ(f.Lookup("q"), std::nullopt);   // ...and another lookup, begun after it, empties the cache
    f.cache.PutCredentials("p", Fixture::Creds("old"), generation);
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "the first lookup's (possibly old) value is not put back";
}

TEST(LookupCacheTest, WithARecheckIntervalTheEpochIsReadOncePerIntervalAndOwnWritesInvalidateAtOnce) {
    Fixture f(std::chrono::milliseconds(100));
    f.Keep("p", "first");
    EXPECT_EQ(f.Lookup("p"), "first");
    EXPECT_EQ(f.epoch_reads, 1) << "read once, at the first lookup";
    f.epoch = 2;  // another process changed something
    f.now += std::chrono::milliseconds(99);
    EXPECT_EQ(f.Lookup("p"), "first") << "not read again within the interval";
    EXPECT_EQ(f.epoch_reads, 1);
    f.now += std::chrono::milliseconds(1);
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "read when it has passed: the new epoch empties the cache";
    EXPECT_EQ(f.epoch_reads, 2);
    f.Keep("p", "second");
    EXPECT_EQ(f.Lookup("p"), "second");
    f.cache.Invalidate();  // this process wrote
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "at once, without reading the epoch";
    EXPECT_EQ(f.epoch_reads, 2);
    // A lookup that began before the write does not put its value back.
    const auto before = f.cache.Begin();
    f.cache.Invalidate();
    f.cache.PutCredentials("p", Fixture::Creds("old"), before);
    EXPECT_EQ(f.Lookup("p"), std::nullopt);
}

TEST(LookupCacheTest, ALaterLookupOfTheSameCallReliesOnItsFirstCheckWhileNothingChanged) {
    Fixture f;
    const auto token = f.cache.Begin();
    EXPECT_TRUE(f.cache.Unchanged(token));
    EXPECT_EQ(f.epoch_reads, 1);
    f.epoch = 2;
    EXPECT_TRUE(f.cache.Unchanged(token)) << "nobody has seen the change yet: the call's check still stands";
    f.cache.Begin();  // another call, begun after the change
    EXPECT_FALSE(f.cache.Unchanged(token));
    EXPECT_FALSE(f.cache.Unchanged(0));
}

TEST(LookupCacheTest, ALookupArrivingDuringAReadOfTheEpochWaitsForOneThatStartsAfterIt) {
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> reads{0};
    std::atomic<std::int64_t> epoch{1};
    LookupCache cache(
        [&]() -> Result<std::int64_t> {
            const std::int64_t seen = epoch.load();  // what the database holds when the read starts
            ++reads;
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return release; });
            return seen;
        },
        std::chrono::milliseconds(0));
    std::thread first([&] { cache.Begin(); });
    while (reads.load() == 0) std::this_thread::yield();
    epoch = 2;  // a change commits while the first read is under way
    std::atomic<bool> second_done{false};
    std::uint64_t second_generation = 0;
    std::thread second([&] {
        second_generation = cache.Begin();
        second_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(second_done.load()) << "it may not use the read that began before it";
    {
        std::lock_guard lock(mu);
        release = true;
    }
    cv.notify_all();
    first.join();
    second.join();
    EXPECT_EQ(reads.load(), 2) << "the second lookup had a read of its own";
    EXPECT_NE(second_generation, 0u);
}

TEST(LookupCacheTest, ADeferredCheckReadsNothingAndNamesTheEpochItsValuesBelongTo) {
    Fixture f;
    auto first = f.cache.BeginDeferred();
    EXPECT_EQ(first.epoch, std::nullopt) << "no epoch known yet: the lookup makes its own check";
    EXPECT_EQ(f.epoch_reads, 1);
    f.cache.PutCredentials("p", Fixture::Creds("first"), first.generation);
    auto deferred = f.cache.BeginDeferred();
    EXPECT_EQ(f.epoch_reads, 1) << "the check is left to the caller";
    EXPECT_EQ(deferred.epoch, 1);
    EXPECT_EQ(f.cache.FindCredentials("p")->partner.name, "first");
    // The caller's statement finds the epoch moved: the cache forgets, and the lookup's generation is over.
    f.cache.Observe(2);
    EXPECT_FALSE(f.cache.Unchanged(deferred.generation));
    EXPECT_FALSE(f.cache.FindCredentials("p"));
    auto next = f.cache.BeginDeferred();
    EXPECT_EQ(next.epoch, 2) << "what a statement read is the epoch of what is kept from now on";
    f.cache.Observe(2);
    EXPECT_TRUE(f.cache.Unchanged(next.generation)) << "confirmed";
    // A change made here leaves the epoch unknown: the next lookup reads it rather than defer.
    f.cache.Invalidate();
    f.epoch = 3;
    EXPECT_EQ(f.cache.BeginDeferred().epoch, std::nullopt);
    EXPECT_EQ(f.epoch_reads, 2);
    EXPECT_EQ(f.cache.BeginDeferred().epoch, 3);
}

TEST(LookupCacheTest, WithARecheckIntervalNothingIsDeferred) {
    Fixture f(std::chrono::milliseconds(250));
    f.Keep("p", "first");
    EXPECT_EQ(f.cache.BeginDeferred().epoch, std::nullopt);
    EXPECT_EQ(f.Lookup("p"), "first");
}

TEST(LookupCacheTest, NothingIsKeptWhileTheEpochCannotBeRead) {
    Fixture f;
    f.Keep("p", "first");
    f.database_answers = false;
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "an unknown epoch trusts nothing";
    f.Keep("p", "second");
    EXPECT_EQ(f.Lookup("p"), std::nullopt) << "nor keeps anything";
    f.database_answers = true;
    f.Keep("p", "third");
    EXPECT_EQ(f.Lookup("p"), "third");
}

TEST(LookupCacheTest, BothKindsGoWithTheEpochAndTheSizeIsBounded) {
    Fixture f;
    Automation b;
    b.name = "a";
    f.cache.PutAutomation("a", b, f.cache.Begin());
    ASSERT_TRUE(f.cache.FindAutomation("a").has_value());
    f.epoch = 2;
    f.cache.Begin();
    EXPECT_FALSE(f.cache.FindAutomation("a").has_value());
    for (std::size_t i = 0; i < LookupCache::kMaxEntries; ++i) f.Keep("k" + std::to_string(i), "v");
    EXPECT_EQ(f.Lookup("k0"), "v");
    f.Keep("one more", "v");
    EXPECT_EQ(f.Lookup("k0"), std::nullopt) << "past the bound, it starts again empty";
    EXPECT_EQ(f.Lookup("one more"), "v");
}

}  // namespace
}  // namespace weft::sql
