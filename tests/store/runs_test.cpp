#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "core/ids.h"
#include "store_backends.h"

namespace weft {
namespace {

// The durable queue: cap checked in the creating transaction, claims respecting per-account concurrency in
// FIFO order, leases and the reaper.
class QueueTest : public ::testing::TestWithParam<testing::Backend> {
  protected:
    void SetUp() override {
        WEFT_REQUIRE_BACKEND(backend_);
        store_ = backend_.Open(2, true);
        Partner p;
        p.guid = NewGuid(now_);
        p.name = "P";
        p.limits.concurrency = 2;
        partner_ = store_->CreatePartner(p)->app_id;
        account_ = MakeAccount("a");
        other_account_ = MakeAccount("b");
        automation_ = MakeAutomation(account_);
        other_automation_ = MakeAutomation(other_account_);
    }

    std::int64_t MakeAccount(const std::string& ext) {
        Account a;
        a.partner_id = partner_;
        a.guid = NewGuid(now_);
        a.externalid = ext;
        a.name = ext;
        return store_->CreateAccount(a, std::nullopt)->id;
    }

    std::int64_t MakeAutomation(std::int64_t account) {
        Automation b;
        b.account_id = account;
        b.guid = NewGuid(now_);
        b.name = "x";
        b.definition = "{}";
        b.execution_token = "t";
        return store_->CreateAutomation(partner_, b)->id;
    }

    Result<weft::Run> Enqueue(std::int64_t account, std::int64_t automation, int cap = 3,
                              std::optional<std::string> key = std::nullopt) {
        weft::Run r;
        r.account_id = account;
        r.automation_id = automation;
        r.guid = NewGuid(now_);
        r.idempotency_key = std::move(key);
        r.created_at = r.updated_at = now_;
        return store_->EnqueueRun(partner_, r, cap, now_ - 1000);
    }

    testing::TestBackend backend_{GetParam()};
    std::unique_ptr<SqlStore> store_;
    Micros now_ = 1'795'851'521'000'000;
    PartnerId partner_ = 0;
    std::int64_t account_ = 0, other_account_ = 0, automation_ = 0, other_automation_ = 0;
};

TEST_P(QueueTest, ARunIsQueuedOnlyForAnAutomationOfThePartnersAccount) {
    // Another account's automation, a missing one, and the right pair under another partner: not found, and
    // nothing created (on PostgreSQL, weft_enqueue_run decides; with a start-here lease too).
    const StartHere here{"api-1", now_ + 30'000'000, 5};
    auto attempt = [&](PartnerId partner, std::int64_t account, std::int64_t automation, const StartHere* start) {
        weft::Run r;
        r.account_id = account;
        r.automation_id = automation;
        r.guid = NewGuid(now_);
        r.created_at = r.updated_at = now_;
        return store_->EnqueueRun(partner, r, 10, now_ - 1000, start);
    };
    for (const StartHere* start : {static_cast<const StartHere*>(nullptr), &here}) {
        for (auto [partner, account, automation] : {std::tuple{partner_, account_, other_automation_},
                                                    std::tuple{partner_, account_, other_automation_ + 1000},
                                                    std::tuple{partner_ + 1, account_, automation_}}) {
            auto refused = attempt(partner, account, automation, start);
            ASSERT_FALSE(refused.ok());
            EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
        }
    }
    EXPECT_EQ(store_->ListRuns(partner_, automation_, {}, {0, 100})->total, 0);
    EXPECT_EQ(store_->ListRuns(partner_, other_automation_, {}, {0, 100})->total, 0);
    EXPECT_TRUE(attempt(partner_, account_, automation_, &here).ok());
}

TEST_P(QueueTest, CapRefusesTheNextRunAndCreatesNothing) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Enqueue(account_, automation_).ok());
    auto refused = Enqueue(account_, automation_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kQueueFull);
    EXPECT_EQ(store_->ListRuns(partner_, automation_, {}, {0, 100})->total, 3);
    EXPECT_TRUE(Enqueue(other_account_, other_automation_).ok());  // the cap is per account
}

TEST_P(QueueTest, ClaimsRespectConcurrencyInFifoOrder) {
    std::vector<std::string> order;
    for (int i = 0; i < 3; ++i) order.push_back(Enqueue(account_, automation_)->guid);
    const std::string other = Enqueue(other_account_, other_automation_)->guid;
    auto claimed = store_->ClaimRuns("w1", 10, now_, now_ + 30'000'000);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 3u);  // two of account a (concurrency 2), one of b
    EXPECT_EQ((*claimed)[0].run.guid, order[0]);
    EXPECT_EQ((*claimed)[1].run.guid, order[1]);
    EXPECT_EQ((*claimed)[2].run.guid, other);
    EXPECT_TRUE(store_->ClaimRuns("w1", 10, now_, now_ + 30'000'000)->empty());
    // Ending one frees a slot for the third run of a.
    ASSERT_TRUE(
        store_
            ->FinishRun(
                (*claimed)[0].run.id,
                {kRunStatusFinished, "{}", std::nullopt, std::nullopt, now_, {}, nullptr, std::nullopt, std::nullopt})
            .ok());
    auto next = store_->ClaimRuns("w1", 10, now_, now_ + 30'000'000);
    ASSERT_EQ(next->size(), 1u);
    EXPECT_EQ((*next)[0].run.guid, order[2]);
}

TEST_P(QueueTest, IdempotencyKeyReturnsTheFirstRun) {
    auto first = Enqueue(account_, automation_, 3, "k1");
    auto again = Enqueue(account_, automation_, 3, "k1");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->guid, first->guid);
    EXPECT_EQ(store_->ListRuns(partner_, automation_, {}, {0, 100})->total, 1);
}

TEST_P(QueueTest, LapsedLeasesRequeueThenFailAfterMaxAttempts) {
    auto run = Enqueue(account_, automation_);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        auto claimed = store_->ClaimRuns("w", 1, now_, now_ + 10);
        ASSERT_EQ(claimed->size(), 1u) << attempt;
        EXPECT_EQ((*claimed)[0].run.attempt, attempt);
        EXPECT_EQ(*store_->ReapExpiredLeases(now_ + 5, 3), 0);  // lease still holds
        EXPECT_EQ(*store_->ReapExpiredLeases(now_ + 11, 3), 1);
    }
    auto lost = store_->GetRunById(run->id);
    EXPECT_EQ(lost->status, kRunStatusFailed);
    EXPECT_NE(lost->error->find("worker lost"), std::string::npos);
}

TEST_P(QueueTest, RenewedLeasesAreNotReaped) {
    ASSERT_TRUE(Enqueue(account_, automation_).ok());
    auto claimed = store_->ClaimRuns("w", 1, now_, now_ + 10);
    ASSERT_TRUE(store_->RenewLeases("w", {(*claimed)[0].run.id}, now_ + 100).ok());
    EXPECT_EQ(*store_->ReapExpiredLeases(now_ + 50, 3), 0);
}

TEST_P(QueueTest, StopQueuedAtOnceRunningAtTheNextBoundary) {
    auto queued = Enqueue(account_, automation_);
    auto running = Enqueue(account_, automation_);
    ASSERT_EQ(store_->ClaimRuns("w", 1, now_, now_ + 10)->size(), 1u);  // claims `queued` (older)
    auto a = store_->RequestRunStop(partner_, running->id, now_);
    EXPECT_EQ(a->status, kRunStatusStopped);
    auto b = store_->RequestRunStop(partner_, queued->id, now_);
    EXPECT_EQ(b->status, kRunStatusMustStop);
    EXPECT_TRUE(*store_->StopRequested(queued->id));
    EXPECT_EQ(store_->RequestRunStop(partner_ + 1, queued->id, now_).error().code, ErrorCode::kNotFound);
}

TEST_P(QueueTest, ScheduleFiresOnceAndSkipsOverlap) {
    Automation b = *store_->FindAutomation(partner_, account_, "x");
    b.run_mode = "scheduled";
    b.schedule_interval = 60;
    b.next_fire_at = now_;
    ASSERT_TRUE(store_->SaveAutomation(partner_, b).ok());
    ASSERT_EQ(store_->DueSchedules(now_, 10)->size(), 1u);
    weft::Run r;
    r.account_id = account_;
    r.guid = NewGuid(now_);
    auto fired = store_->FireSchedule(automation_, now_, now_ + 60'000'000, r, 200);
    EXPECT_EQ(fired->outcome, FireOutcome::kFired);
    // The same tick again (another process, a retry): stale, nothing queued.
    r.guid = NewGuid(now_);
    EXPECT_EQ(store_->FireSchedule(automation_, now_, now_ + 60'000'000, r, 200)->outcome, FireOutcome::kStale);
    // Next tick while the first scheduled run is still queued: skipped.
    r.guid = NewGuid(now_);
    auto overlap = store_->FireSchedule(automation_, now_ + 60'000'000, now_ + 120'000'000, r, 200);
    EXPECT_EQ(overlap->outcome, FireOutcome::kSkippedOverlap);
    EXPECT_EQ(store_->ListRuns(partner_, automation_, {}, {0, 100})->total, 1);
    EXPECT_TRUE(store_->DueSchedules(now_ + 60'000'000, 10)->empty());
}

TEST_P(QueueTest, PruneDeletesOnlyEndedRunsPastTheWindowWithTheirLogs) {
    auto old_run = Enqueue(account_, automation_);
    auto young_run = Enqueue(account_, automation_);
    auto queued = Enqueue(account_, automation_);
    auto claimed = store_->ClaimRuns("w1", 2, now_, now_ + 30'000'000);
    ASSERT_EQ(claimed->size(), 2u);
    RunOutcome o{kRunStatusFinished,      "{}",    std::nullopt, std::nullopt, now_,
                 {R"({"block_id":"a"})"}, nullptr, std::nullopt, std::nullopt, true};
    ASSERT_TRUE(store_->FinishRun(old_run->id, o).ok());
    o.stoptime = now_ + 10;
    ASSERT_TRUE(store_->FinishRun(young_run->id, o).ok());
    // The queued run is older than the cut too (created before it) but has not ended: it stays.
    EXPECT_EQ(*store_->PruneRuns(now_ + 5, 500), 1);
    EXPECT_EQ(store_->GetRunById(old_run->id).error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store_->GetRunById(young_run->id).ok());
    EXPECT_TRUE(store_->GetRunById(queued->id).ok());
    EXPECT_EQ(store_->ExportRun(old_run->guid).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->ExportRun(young_run->guid)->logs.size(), 1u);
    EXPECT_EQ(*store_->PruneRuns(now_ + 5, 500), 0);
}

TEST_P(QueueTest, PruneWorksInBatches) {
    for (int i = 0; i < 3; ++i) {
        auto r = Enqueue(account_, automation_);
        ASSERT_TRUE(store_->RequestRunStop(partner_, r->id, now_).ok());  // queued -> stopped, ended now_
    }
    EXPECT_EQ(*store_->PruneRuns(now_ + 1, 2), 2);
    EXPECT_EQ(*store_->PruneRuns(now_ + 1, 2), 1);
    EXPECT_EQ(store_->ListRuns(partner_, automation_, {}, {0, 100})->total, 0);
}

TEST_P(QueueTest, ActiveRunsOfAnAccountAndTheEndOfADeletedRun) {
    auto running = Enqueue(account_, automation_);
    ASSERT_EQ(store_->ClaimRuns("w1", 1, now_, now_ + 30'000'000)->size(), 1u);
    auto queued = Enqueue(account_, automation_);
    auto ended = Enqueue(account_, automation_);
    ASSERT_TRUE(store_->RequestRunStop(partner_, ended->id, now_).ok());
    ASSERT_TRUE(Enqueue(other_account_, other_automation_).ok());
    auto active = store_->ListActiveRuns(partner_, account_);
    ASSERT_TRUE(active.ok());
    ASSERT_EQ(active->size(), 2u);
    EXPECT_EQ((*active)[0].guid, running->guid);
    EXPECT_EQ((*active)[1].guid, queued->guid);
    EXPECT_TRUE(store_->ListActiveRuns(partner_ + 1, account_)->empty());  // another partner sees nothing
    ASSERT_TRUE(store_->DeleteAccount(partner_, account_).ok());
    // The worker that ran it learns the run is gone; nothing is written.
    auto finish = store_->FinishRun(
        running->id,
        {kRunStatusFinished, "{}", std::nullopt, std::nullopt, now_, {"{}"}, nullptr, std::nullopt, std::nullopt});
    EXPECT_EQ(finish.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(*store_->StopRequested(running->id));
}

TEST_P(QueueTest, FinishingARunNoLongerRunningRecordsNothing) {
    auto r = Enqueue(account_, automation_);
    auto finish = store_->FinishRun(
        r->id,
        {kRunStatusFinished, "{}", std::nullopt, std::nullopt, now_, {"{}"}, nullptr, std::nullopt, std::nullopt});
    EXPECT_EQ(finish.error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->GetRunById(r->id)->status, kRunStatusQueued);
    EXPECT_TRUE(store_->ExportRun(r->guid)->logs.empty());
}

TEST_P(QueueTest, ServerSecretIsCreatedOnceAndThenKept) {
    EXPECT_EQ(*store_->ServerSecret("links", "first", now_), "first");
    EXPECT_EQ(*store_->ServerSecret("links", "second", now_), "first");
    EXPECT_EQ(*store_->ServerSecret("other", "x", now_), "x");
}

TEST_P(QueueTest, ClaimRunTakesOneQueuedRunWhateverTheAccountRuns) {
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(Enqueue(account_, automation_).ok());
    ASSERT_EQ(store_->ClaimRuns("w1", 10, now_, now_ + 30'000'000)->size(), 2u);  // the account is at its limit
    auto sub = Enqueue(account_, automation_);
    EXPECT_TRUE(store_->ClaimRuns("w1", 10, now_, now_ + 30'000'000)->empty());
    auto mine = store_->ClaimRun(sub->id, "w2", now_, now_ + 30'000'000);
    ASSERT_TRUE(mine.ok());
    ASSERT_TRUE(mine->has_value());
    EXPECT_EQ((*mine)->run.guid, sub->guid);
    EXPECT_EQ((*mine)->run.status, kRunStatusRunning);
    EXPECT_EQ((*mine)->account.id, account_);
    EXPECT_EQ((*mine)->automation.id, automation_);
    EXPECT_FALSE(store_->ClaimRun(sub->id, "w3", now_, now_ + 30'000'000)->has_value());  // taken already
}

// What EnqueueRun, ClaimRuns and FinishRun return is what the store then holds (they build it from the
// statements that wrote it rather than reading it back).
void ExpectSameRun(const weft::Run& got, const weft::Run& stored) {
    EXPECT_EQ(got.id, stored.id);
    EXPECT_EQ(got.guid, stored.guid);
    EXPECT_EQ(got.automation_guid, stored.automation_guid);
    EXPECT_EQ(got.status, stored.status);
    EXPECT_EQ(got.context, stored.context);
    EXPECT_EQ(got.flow, stored.flow);
    EXPECT_EQ(got.inputs, stored.inputs);
    EXPECT_EQ(got.start_payload, stored.start_payload);
    EXPECT_EQ(got.output, stored.output);
    EXPECT_EQ(got.error, stored.error);
    EXPECT_EQ(got.response, stored.response);
    EXPECT_EQ(got.attempt, stored.attempt);
    EXPECT_EQ(got.call_depth, stored.call_depth);
    EXPECT_EQ(got.schedule_starttime, stored.schedule_starttime);
    EXPECT_EQ(got.starttime, stored.starttime);
    EXPECT_EQ(got.stoptime, stored.stoptime);
    EXPECT_EQ(got.created_at, stored.created_at);
    EXPECT_EQ(got.updated_at, stored.updated_at);
}

TEST_P(QueueTest, ARunsLifeReturnsWhatIsStoredAndKeepsEveryLogEntryInOrder) {
    weft::Run r;
    r.account_id = account_;
    r.automation_id = automation_;
    r.guid = NewGuid(now_);
    r.context = "widget_sync";
    r.inputs = R"({"n":1})";
    r.start_payload = R"({"body":"x"})";
    r.call_depth = 2;
    r.schedule_starttime = now_ - 5;
    r.created_at = r.updated_at = now_;
    auto queued = store_->EnqueueRun(partner_, r, 3, now_ - 1000);
    ASSERT_TRUE(queued.ok()) << queued.error().detail;
    ExpectSameRun(*queued, *store_->GetRunById(queued->id));

    auto claimed = store_->ClaimRuns("w", 5, now_ + 1, now_ + 30'000'000);
    ASSERT_EQ(claimed->size(), 1u);
    ExpectSameRun((*claimed)[0].run, *store_->GetRunById(queued->id));
    EXPECT_EQ((*claimed)[0].automation.definition, "{}");
    EXPECT_EQ((*claimed)[0].account.externalid, "a");

    // Entries written while running, then at the end: quotes, backslashes, braces, commas, NUL-free unicode,
    // empty, and more than one statement's worth (16 rows) of them.
    ASSERT_TRUE(store_->AppendRunLogs(queued->id, {R"({"early":1})", R"({"early":2})"}).ok());
    std::vector<std::string> logs = {R"({"q":"say "hi""})", R"({"path":"C:\dir\"})",    "{}", "{,}", "",
                                     "cafÃ© â",      R"({"a":[1,2,{"b":null}]})"};
    for (int i = 0; i < 30; ++i) logs.push_back("{\"i\":" + std::to_string(i) + "}");
    auto ended =
        store_->FinishRun(queued->id, {kRunStatusFinished, R"({"n":1})", std::nullopt, R"({"status":201,"headers":{}})",
                                       now_ + 2, logs, nullptr, std::nullopt, std::nullopt});
    ASSERT_TRUE(ended.ok()) << ended.error().detail;
    ExpectSameRun(*ended, *store_->GetRunById(queued->id));
    EXPECT_EQ(ended->status, kRunStatusFinished);
    EXPECT_EQ(ended->starttime, now_ + 1);
    EXPECT_EQ(ended->stoptime, now_ + 2);

    auto exported = store_->ExportRun(queued->guid);
    std::vector<std::string> expected = {R"({"early":1})", R"({"early":2})"};
    expected.insert(expected.end(), logs.begin(), logs.end());
    EXPECT_EQ(exported->logs, expected);
    EXPECT_EQ(store_->FindAutomation(partner_, account_, "x")->last_run_at, now_ + 1) << "the ended run's start";
}

// A worker that has the claimed run passes it: the store builds the ended run from it (SQLite) instead of reading
// it back, and the worker says which log entry was its last, or lets the store look it up.
TEST_P(QueueTest, TheEndOfAClaimedRunIsWhatIsStoredAndFollowsEveryEarlierEntry) {
    ASSERT_TRUE(Enqueue(account_, automation_).ok());
    auto first = store_->ClaimRuns("w", 1, now_, now_ + 10);
    ASSERT_EQ(first->size(), 1u);
    const std::int64_t id = (*first)[0].run.id;
    ASSERT_TRUE(store_->AppendRunLogs(id, {R"({"attempt":1})"}).ok());
    // The worker is lost: a second attempt runs it again, writes an entry, then ends it without knowing the seq.
    ASSERT_EQ(*store_->ReapExpiredLeases(now_ + 11, 3), 1);
    auto second = store_->ClaimRuns("w2", 1, now_ + 12, now_ + 30'000'000);
    ASSERT_EQ(second->size(), 1u);
    const weft::Run claimed = (*second)[0].run;
    EXPECT_EQ(claimed.attempt, 2);
    ASSERT_TRUE(store_->AppendRunLogs(id, {R"({"attempt":2})"}).ok());
    RunOutcome o{kRunStatusFinishedWithWarnings,
                 R"({"out":"\"q\""})",
                 R"({"message":"w","block_id":"b"})",
                 R"({"status":202,"headers":{}})",
                 now_ + 13,
                 {R"({"end":1})", R"({"end":2})"},
                 &claimed,
                 std::nullopt,
                 std::nullopt,
                 true};
    // The first worker, back from a stall after its lease lapsed, cannot end the run the second one now holds.
    RunOutcome stale = o;
    stale.claimed = &(*first)[0].run;
    stale.owner = "w";
    stale.last_seq = 1;
    auto refused = store_->FinishRun(id, stale);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->GetRunById(id)->status, kRunStatusRunning);
    EXPECT_EQ(store_->ExportRun(claimed.guid)->logs.size(), 2u) << "nothing written";
    o.owner = "w2";
    auto ended = store_->FinishRun(id, o);
    ASSERT_TRUE(ended.ok()) << ended.error().detail;
    ExpectSameRun(*ended, *store_->GetRunById(id));
    EXPECT_EQ(ended->attempt, 2);
    EXPECT_EQ(ended->starttime, now_ + 12);
    const std::vector<std::string> logs = {R"({"attempt":1})", R"({"attempt":2})", R"({"end":1})", R"({"end":2})"};
    EXPECT_EQ(store_->ExportRun(claimed.guid)->logs, logs);
    // Ended once: ending it again records nothing and says why.
    auto again = store_->FinishRun(id, o);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    EXPECT_EQ(store_->ExportRun(claimed.guid)->logs, logs);
}

TEST_P(QueueTest, AnEndWrittenWithoutWaitingSaysWhetherItSawAnyRunQueued) {
    // Workers look for queued runs after an end unless it saw none. PostgreSQL's end statement looks; SQLite's
    // end does not (false: "did not look"), its look being a read in the same process.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Enqueue(account_, automation_).ok());
    auto claimed = store_->ClaimRuns("w", 10, now_, now_ + 30'000'000);
    ASSERT_EQ(claimed->size(), 2u) << "concurrency 2: the third stays queued";
    auto end = [&](const weft::Run& run) {
        RunOutcome o{kRunStatusFinished, "{}", std::nullopt, std::nullopt, now_ + 1, {}, &run,
                     std::nullopt,       "w",  false};
        std::promise<std::pair<bool, bool>> heard;  // ended, none queued
        store_->FinishRunAsync(run.id, std::move(o), [&](Result<weft::Run> r, bool none_queued) {
            heard.set_value({r.ok(), none_queued});
        });
        return heard.get_future().get();
    };
    EXPECT_EQ(end((*claimed)[0].run), std::make_pair(true, false)) << "the third run was queued";
    auto third = store_->ClaimRuns("w", 10, now_ + 2, now_ + 30'000'000);
    ASSERT_EQ(third->size(), 1u);
    const bool looks = GetParam() == testing::Backend::kPostgres;
    EXPECT_EQ(end((*claimed)[1].run), std::make_pair(true, looks)) << "nothing queued any more";
    ASSERT_TRUE(Enqueue(other_account_, other_automation_).ok());
    EXPECT_EQ(end((*third)[0].run), std::make_pair(true, false)) << "another account's run is queued";
}

TEST_P(QueueTest, EndsWrittenWithoutWaitingAreAllStoredWithTheirEntries) {
    // Many runs ended at once from several threads, each without waiting for its commit: every callback hears
    // of its own run, as stored, and every entry is there in order. One end comes from a worker that does not
    // hold the run's lease: it alone is refused, and the run stays running.
    constexpr int kRuns = 40;
    constexpr int kIntruder = 5;
    bool refused = false;
    ASSERT_TRUE(store_->UpdatePartnerLimits(partner_, {300, 1000, 1000}, now_).ok());
    for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(Enqueue(account_, automation_, 1000).ok());
    auto claimed = store_->ClaimRuns("w", kRuns, now_, now_ + 30'000'000);
    ASSERT_EQ(claimed->size(), static_cast<std::size_t>(kRuns));
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::int64_t, weft::Run> heard;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = t; i < kRuns; i += 4) {
                const weft::Run& run = (*claimed)[static_cast<std::size_t>(i)].run;
                if (i % 2 == 0) {
                    ASSERT_TRUE(store_->AppendRunLogs(run.id, {R"({"mid":0})"}).ok());
                }
                RunOutcome o{kRunStatusFinished,
                             "{\"i\":" + std::to_string(i) + "}",
                             std::nullopt,
                             std::nullopt,
                             now_ + i,
                             {R"({"last":0})", R"({"last":1})"},
                             &run,
                             i % 2 == 0 ? std::optional<std::int64_t>(1) : std::optional<std::int64_t>(0),
                             std::string(i == kIntruder ? "intruder" : "w"),
                             true};
                store_->FinishRunAsync(run.id, std::move(o), [&, i, id = run.id](Result<weft::Run> r, bool) {
                    std::lock_guard lock(mu);
                    if (i == kIntruder) {
                        EXPECT_FALSE(r.ok());
                        if (!r.ok()) {
                            EXPECT_EQ(r.error().code, ErrorCode::kConflict);
                        }
                        refused = true;
                    } else {
                        EXPECT_TRUE(r.ok()) << r.error().detail;
                        if (r.ok()) {
                            heard.emplace(id, std::move(*r));
                        }
                    }
                    cv.notify_all();
                });
            }
        });
    }
    for (auto& th : threads) th.join();
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return refused && heard.size() == kRuns - 1; }));
    EXPECT_EQ(store_->GetRunById((*claimed)[kIntruder].run.id)->status, kRunStatusRunning);
    for (int i = 0; i < kRuns; ++i) {
        if (i == kIntruder) continue;
        const weft::Run& run = (*claimed)[static_cast<std::size_t>(i)].run;
        const weft::Run& got = heard.at(run.id);
        ExpectSameRun(got, *store_->GetRunById(run.id));
        EXPECT_EQ(got.output, "{\"i\":" + std::to_string(i) + "}");
        std::vector<std::string> logs = {R"({"last":0})", R"({"last":1})"};
        if (i % 2 == 0) logs.insert(logs.begin(), R"({"mid":0})");
        EXPECT_EQ(store_->ExportRun(run.guid)->logs, logs) << i;
    }
}

TEST_P(QueueTest, EveryRunAClaimStartsIsReturnedToItsClaimerOnceWhileRunsAreBeingQueued) {
    // Claims racing enqueues: a run that a claim starts must come back to that claimer (a run started but not
    // returned would sit running under a lease nobody executes until it lapses), and no run comes back twice.
    constexpr int kRuns = 300;
    ASSERT_TRUE(store_->UpdatePartnerLimits(partner_, {300, 100000, 100000}, now_).ok());
    std::atomic<bool> queued_all{false};
    std::thread enqueuer([&] {
        for (int i = 0; i < kRuns; ++i) EXPECT_TRUE(Enqueue(account_, automation_, 100000).ok());
        queued_all = true;
    });
    std::map<std::int64_t, int> returned;
    for (bool last = false; !last;) {
        last = queued_all.load();  // one more claim after the last run was queued
        auto claimed = store_->ClaimRuns("w", 16, now_, now_ + 30'000'000);
        ASSERT_TRUE(claimed.ok()) << claimed.error().detail;
        for (const auto& c : *claimed) {
            ++returned[c.run.id];
            EXPECT_EQ(c.run.status, kRunStatusRunning);
            EXPECT_EQ(c.account.id, account_);
        }
        if (!last && claimed->empty()) std::this_thread::yield();
    }
    enqueuer.join();
    auto active = store_->ListActiveRuns(partner_, account_);
    ASSERT_TRUE(active.ok());
    ASSERT_EQ(active->size(), static_cast<std::size_t>(kRuns));
    for (const auto& run : *active) {
        EXPECT_EQ(run.status, kRunStatusRunning);
        EXPECT_EQ(returned[run.id], 1) << "run " << run.id;
    }
    EXPECT_EQ(returned.size(), static_cast<std::size_t>(kRuns));
}

// A run may be created running under its submitter's lease, skipping the queue and the claim: only in a free slot
// of its account and with nothing queued before it. The same rule whether its caller waits for the commit
// (EnqueueRun, sync calls) or hears of it later (EnqueueRunAsync, async calls).
TEST_P(QueueTest, ARunStartsAtOnceOnlyInAFreeSlotWithNothingQueuedBeforeIt) {
    const StartHere here{"api-1", now_ + 30'000'000, 2};
    enum class Via { kWait, kLater };
    auto start = [&](std::int64_t account, Via via) -> Result<weft::Run> {
        weft::Run r;
        r.account_id = account;
        r.automation_id = account == account_ ? automation_ : other_automation_;
        r.guid = NewGuid(now_);
        r.inputs = R"({"n":1})";
        r.created_at = r.updated_at = now_;
        if (via == Via::kWait) return store_->EnqueueRun(partner_, r, 10, now_ - 1000, &here);
        std::promise<Result<weft::Run>> done;
        store_->EnqueueRunAsync(
            partner_, r, 10, now_ - 1000, [&](Result<weft::Run> q) { done.set_value(std::move(q)); }, nullptr, here);
        return done.get_future().get();
    };
    auto first = start(account_, Via::kWait);
    ASSERT_TRUE(first.ok()) << first.error().detail;
    ExpectSameRun(*first, *store_->GetRunById(first->id));
    EXPECT_EQ(first->status, kRunStatusRunning);
    EXPECT_EQ(first->starttime, now_);
    EXPECT_EQ(first->attempt, 1);
    auto second = start(account_, Via::kLater);
    ASSERT_TRUE(second.ok()) << second.error().detail;
    ExpectSameRun(*second, *store_->GetRunById(second->id));
    EXPECT_EQ(second->status, kRunStatusRunning);
    auto third = start(account_, Via::kLater);  // both slots taken
    EXPECT_EQ(third->status, kRunStatusQueued);
    EXPECT_EQ(start(other_account_, Via::kLater)->status, kRunStatusRunning) << "another account has its own slots";
    // The started runs are leased to the caller: nothing to claim but the queued one, and their lease is reaped
    // like a claimed run's.
    ASSERT_TRUE(store_
                    ->FinishRun(first->id, {kRunStatusFinished,
                                            "{}",
                                            std::nullopt,
                                            std::nullopt,
                                            now_ + 1,
                                            {},
                                            nullptr,
                                            std::nullopt,
                                            std::nullopt})
                    .ok());
    for (Via via : {Via::kWait, Via::kLater}) {
        // A slot is free, but the third run was queued first.
        EXPECT_EQ(start(account_, via)->status, kRunStatusQueued);
    }
    auto claimed = store_->ClaimRuns("w", 10, now_ + 2, now_ + 10);
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ((*claimed)[0].run.id, third->id);
    EXPECT_EQ(*store_->ReapExpiredLeases(now_ + 30'000'001, 3), 3) << "the two started here and the claimed one";
}

TEST_P(QueueTest, LastRunAtIsTheNewestStartAmongEndedRuns) {
    EXPECT_FALSE(store_->FindAutomation(partner_, account_, "x")->last_run_at.has_value());
    auto first = Enqueue(account_, automation_);
    auto second = Enqueue(account_, automation_);
    ASSERT_EQ(store_->ClaimRuns("w", 1, now_ + 10, now_ + 30'000'000)->size(), 1u);
    ASSERT_EQ(store_->ClaimRuns("w", 1, now_ + 20, now_ + 30'000'000)->size(), 1u);
    EXPECT_FALSE(store_->FindAutomation(partner_, account_, "x")->last_run_at.has_value()) << "none ended yet";
    ASSERT_TRUE(store_->FinishRun(
        second->id,
        {kRunStatusFinished, "{}", std::nullopt, std::nullopt, now_ + 30, {}, nullptr, std::nullopt, std::nullopt}));
    EXPECT_EQ(store_->FindAutomation(partner_, account_, "x")->last_run_at, now_ + 20);
    ASSERT_TRUE(store_->FinishRun(
        first->id, {kRunStatusFailed, "{}", "{}", std::nullopt, now_ + 40, {}, nullptr, std::nullopt, std::nullopt}));
    EXPECT_EQ(store_->FindAutomation(partner_, account_, "x")->last_run_at, now_ + 20) << "the newest start";
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueTest, ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace weft
