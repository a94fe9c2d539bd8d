// The combiner that PostgreSQL's enqueues and rate-limit decisions go through: concurrent requests are handled
// in batches, one batch at a time, each request exactly once.
#include "store/sql/combiner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace weft {
namespace {

struct Request {
    int value = 0;
    int handled = 0;  // times a batch handled it
    bool done = false;
};

TEST(CombinerTest, EveryRequestIsHandledOnceByOneBatchAtATime) {
    sql::Combiner<Request> combiner;
    std::atomic<int> running{0}, overlaps{0}, batches{0}, largest{0};
    std::atomic<long> sum{0};
    constexpr int kThreads = 16, kEach = 200;
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                Request r{t * kEach + i};
                combiner.Submit(r, [&](std::vector<Request*>& batch) {
                    if (running.fetch_add(1) != 0) ++overlaps;
                    ++batches;
                    largest = std::max(largest.load(), static_cast<int>(batch.size()));
                    std::this_thread::sleep_for(std::chrono::microseconds(50));  // a commit's worth of time
                    for (Request* q : batch) {
                        ++q->handled;
                        sum += q->value;
                        q->done = true;
                    }
                    --running;
                });
                if (!r.done || r.handled != 1) ++wrong;  // back only once its own request was handled
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(overlaps, 0) << "one batch at a time";
    const long n = kThreads * kEach;
    EXPECT_EQ(sum, n * (n - 1) / 2) << "each request exactly once";
    EXPECT_LT(batches, n) << "requests that arrived during a batch shared the next one (largest " << largest << ")";
}

TEST(CombinerTest, RequestsOfABatchThatThrowsGoIntoTheNextOneAndItsLeaderGetsTheError) {
    sql::Combiner<Request> combiner;
    std::atomic<bool> first_entered{false}, release_first{false};
    std::atomic<int> calls{0};
    auto batch_fn = [&](std::vector<Request*>& batch) {
        const int call = calls.fetch_add(1);
        if (call == 0) {  // holds the combiner while the others queue up behind it
            first_entered = true;
            while (!release_first) std::this_thread::yield();
        }
        if (call == 1) throw std::runtime_error("the batch failed");  // the five queued ones
        for (Request* q : batch) {
            ++q->handled;
            q->done = true;
        }
    };
    Request blocker;
    std::thread first([&] { combiner.Submit(blocker, batch_fn); });
    while (!first_entered) std::this_thread::yield();
    std::vector<Request> queued(5);
    std::atomic<int> threw{0};
    std::vector<std::thread> others;
    for (auto& r : queued) {
        others.emplace_back([&] {
            try {
                combiner.Submit(r, batch_fn);
            } catch (const std::runtime_error&) {
                ++threw;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all five are waiting
    release_first = true;
    first.join();
    for (auto& t : others) t.join();
    EXPECT_TRUE(blocker.done);
    EXPECT_EQ(threw, 1) << "the caller that ran the failed batch hears of it";
    int handled = 0;
    for (const auto& r : queued) {
        if (r.done) {
            EXPECT_EQ(r.handled, 1);
            ++handled;
        }
    }
    EXPECT_EQ(handled, 4) << "the others' requests went into the next batch";
    EXPECT_GE(calls, 3);
}

TEST(CombinerTest, WithAGatherTimeABatchWaitsForAsManyRequestsAsTheLastOneHadAndALoneCallerNever) {
    // An hour: a wait that did not end when enough requests had come would hang the test (and fail it by timeout).
    sql::Combiner<Request> combiner(std::chrono::hours(1));
    std::vector<int> sizes;  // of each batch, in order (one batch at a time)
    std::atomic<bool> first_entered{false}, release_first{false};
    auto batch_fn = [&](std::vector<Request*>& batch) {
        sizes.push_back(static_cast<int>(batch.size()));
        if (sizes.size() == 1) {
            first_entered = true;
            while (!release_first) std::this_thread::yield();
        }
        for (Request* q : batch) q->done = true;
    };
    // The first call ever is alone: nothing to wait for.
    Request lone;
    std::thread first([&] { combiner.Submit(lone, batch_fn); });
    while (!first_entered) std::this_thread::yield();
    // Four requests queue behind it and go together when it ends.
    std::vector<Request> four(4);
    std::vector<std::thread> threads;
    for (auto& r : four) threads.emplace_back([&] { combiner.Submit(r, batch_fn); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all four are waiting
    release_first = true;
    first.join();
    for (auto& t : threads) t.join();
    threads.clear();
    ASSERT_EQ(sizes, (std::vector<int>{1, 4}));
    // Four more, arriving one at a time: the first waits for the other three, and all go as one batch.
    std::vector<Request> spaced(4);
    for (auto& r : spaced) {
        threads.emplace_back([&] { combiner.Submit(r, batch_fn); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(sizes, (std::vector<int>{1, 4, 4}));
    for (const auto& r : spaced) EXPECT_TRUE(r.done);
}

TEST(BatcherTest, ItemsAddedWhileABatchRunsGoIntoTheNextOneWithoutTheirCallersWaiting) {
    sql::Batcher<int> batcher;
    std::atomic<bool> first_entered{false}, release_first{false};
    std::vector<std::vector<int>> batches;  // touched only by the thread running batches
    auto run = [&](std::vector<int>& batch) {
        batches.push_back(batch);
        if (batches.size() == 1) {
            first_entered = true;
            while (!release_first) std::this_thread::yield();
        }
    };
    std::thread first([&] { batcher.Add(0, run); });
    while (!first_entered) std::this_thread::yield();
    for (int i = 1; i <= 5; ++i) batcher.Add(i, run);  // each returns at once: a batch is running
    release_first = true;
    first.join();  // the first caller ran the next batch too before returning
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0], std::vector<int>{0});
    EXPECT_EQ(batches[1], (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(BatcherTest, WithAGatherTimeABatchWaitsForAsManyItemsAsTheLastOneHadAndALoneItemNever) {
    // An hour: a wait that did not end when enough items had come would hang the test (and fail it by timeout).
    sql::Batcher<int> batcher(std::chrono::hours(1));
    std::vector<int> sizes;  // of each batch, in order (one batch at a time)
    std::atomic<bool> first_entered{false}, release_first{false};
    auto batch_fn = [&](std::vector<int>& batch) {
        sizes.push_back(static_cast<int>(batch.size()));
        if (sizes.size() == 1) {
            first_entered = true;
            while (!release_first) std::this_thread::yield();
        }
    };
    // The first item ever is alone: its batch runs at once (and holds the batcher until released).
    std::thread first([&] { batcher.Add(0, batch_fn); });
    while (!first_entered) std::this_thread::yield();
    for (int i = 1; i <= 4; ++i) batcher.Add(i, batch_fn);  // returns at once: a batch is running
    release_first = true;
    first.join();  // it ran the four as the next batch
    ASSERT_EQ(sizes, (std::vector<int>{1, 4}));
    // Four more, added one at a time: the caller running the batch waits for the other three.
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] { batcher.Add(10 + i, batch_fn); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(sizes, (std::vector<int>{1, 4, 4}));
}

}  // namespace
}  // namespace weft
