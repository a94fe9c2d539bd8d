// Processes sharing one PostgreSQL database: each "process" here is its own SqlStore with its own pool, as
// two weft processes would have. The queue cap, per-account concurrency, rate-limit windows, the one
// scheduler and run-finished notifications must hold across them.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "store/postgres/pg_coordination.h"
#include "store/sql/migrations.h"
#include "store/sql/query.h"
#include "store_backends.h"

namespace weft {
namespace {

class PgScaleOutTest : public ::testing::Test {
  protected:
    void SetUp() override {
        WEFT_REQUIRE_BACKEND(backend_);
        one_ = backend_.Open(8, true);
        two_ = backend_.Open(8, true);
    }

    PartnerId MakePartner(int queue_cap, int concurrency) {
        Partner p;
        p.guid = NewGuid(now_);
        p.name = "P";
        p.limits.queue_cap = queue_cap;
        p.limits.concurrency = concurrency;
        return one_->CreatePartner(p)->app_id;
    }

    std::pair<std::int64_t, std::int64_t> MakeAccountAndAutomation(PartnerId partner, std::string externalid = "acc") {
        Account a;
        a.partner_id = partner;
        a.guid = NewGuid(now_);
        a.externalid = a.name = std::move(externalid);
        const auto account = one_->CreateAccount(a, std::nullopt)->id;
        Automation b;
        b.account_id = account;
        b.guid = NewGuid(now_);
        b.name = "x";
        b.definition = "{}";
        b.execution_token = "t";
        return {account, one_->CreateAutomation(partner, b)->id};
    }

    static Result<weft::Run> Enqueue(SqlStore& store, PartnerId partner, std::int64_t account, std::int64_t automation,
                                     int cap, Micros now) {
        weft::Run r;
        r.account_id = account;
        r.automation_id = automation;
        r.guid = NewGuid(now);
        r.created_at = r.updated_at = now;
        return store.EnqueueRun(partner, r, cap, now - 1000);
    }

    testing::TestBackend backend_{testing::Backend::kPostgres};
    std::unique_ptr<SqlStore> one_, two_;
    Micros now_ = 1'795'851'521'000'000;
};

TEST_F(PgScaleOutTest, ProcessesStartingTogetherOnAFreshDatabaseApplyEachMigrationOnce) {
    const std::string url = backend_.Url("fresh");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            try {
                auto store = OpenStore(url, "", 2, true);
                if (!store->Ping().ok()) ++failures;
            } catch (const std::exception&) {
                ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, 0);
    auto store = backend_.Open(1, false, "fresh");
    EXPECT_EQ(store->SchemaVersion(), sql::LatestVersion());
    EXPECT_EQ(store->Migrate(), 0);
}

TEST_F(PgScaleOutTest, ConcurrentSubmissionsToTwoProcessesStopExactlyAtTheQueueCap) {
    const PartnerId partner = MakePartner(20, 5);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    std::atomic<int> accepted{0}, refused{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        SqlStore& store = t % 2 ? *two_ : *one_;
        threads.emplace_back([&, t] {
            for (int i = 0; i < 6; ++i) {
                auto r = Enqueue(store, partner, account, automation, 20, now_ + t * 100 + i);
                if (r) {
                    ++accepted;
                } else if (r.error().code == ErrorCode::kQueueFull) {
                    ++refused;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted, 20);
    EXPECT_EQ(refused, 28);
    EXPECT_EQ(other, 0);
}

TEST_F(PgScaleOutTest, ConcurrentClaimsOfTwoProcessesRespectTheAccountsConcurrency) {
    const PartnerId partner = MakePartner(100, 3);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(Enqueue(*one_, partner, account, automation, 100, now_ + i).ok());
    std::mutex mu;
    std::vector<std::int64_t> claimed;
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        SqlStore& store = t % 2 ? *two_ : *one_;
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                auto r = store.ClaimRuns("w" + std::to_string(t), 2, now_, now_ + 30'000'000);
                ASSERT_TRUE(r.ok()) << r.error().detail;
                std::lock_guard lock(mu);
                for (const auto& c : *r) claimed.push_back(c.run.id);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(claimed.size(), 3u) << "three slots, each started once";
    EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), claimed.size());
}

TEST_F(PgScaleOutTest, RunsStartedWhereSubmittedAndClaimsOfTwoProcessesShareTheAccountsSlotsExactly) {
    // Two processes start sync callers' runs at once while both claim queued ones: together they never start
    // more than the account's three slots, and every run either started (once) or waits queued.
    const PartnerId partner = MakePartner(1000, 3);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(Enqueue(*one_, partner, account, automation, 1000, now_ + i).ok());
    std::mutex mu;
    std::vector<std::int64_t> started;
    int queued_here = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        SqlStore& store = t % 2 ? *two_ : *one_;
        threads.emplace_back([&, t] {
            const StartHere here{"p" + std::to_string(t), now_ + 30'000'000, 3};
            for (int i = 0; i < 6; ++i) {
                if ((t + i) % 3 == 0) {
                    auto r = store.ClaimRuns("w" + std::to_string(t), 2, now_, now_ + 30'000'000);
                    ASSERT_TRUE(r.ok()) << r.error().detail;
                    std::lock_guard lock(mu);
                    for (const auto& c : *r) started.push_back(c.run.id);
                    continue;
                }
                weft::Run run;
                run.account_id = account;
                run.automation_id = automation;
                run.guid = NewGuid(now_);
                run.created_at = run.updated_at = now_;
                auto r = store.EnqueueRun(partner, run, 1000, now_ - 1000, &here);
                ASSERT_TRUE(r.ok()) << r.error().detail;
                std::lock_guard lock(mu);
                if (r->status == kRunStatusRunning) {
                    started.push_back(r->id);
                } else {
                    ++queued_here;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(started.size(), 3u) << "three slots, each taken once";
    EXPECT_EQ(std::set<std::int64_t>(started.begin(), started.end()).size(), started.size());
    EXPECT_GT(queued_here, 0);
}

TEST_F(PgScaleOutTest, AClaimCountsAnAccountsRunningRunsUnderItsSlotsLockAndAnEnqueueOfQueuedRunsDoesNotWait) {
    // The lock that runs started where they are submitted count under (weft_enqueue_runs): while another
    // transaction holds the account's slots lock, a claim of its queued run waits instead of counting. Its queue
    // lock is another: runs are queued meanwhile.
    const PartnerId partner = MakePartner(100, 3);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    ASSERT_TRUE(Enqueue(*one_, partner, account, automation, 100, now_).ok());
    PGconn* holder = PQconnectdb(backend_.Url().c_str());
    ASSERT_EQ(PQstatus(holder), CONNECTION_OK);
    auto exec = [&](const std::string& sql) {
        PGresult* r = PQexec(holder, sql.c_str());
        const auto status = PQresultStatus(r);
        PQclear(r);
        return status;
    };
    ASSERT_EQ(exec("BEGIN"), PGRES_COMMAND_OK);
    ASSERT_EQ(exec("SELECT weft_lock_accounts(ARRAY[" + std::to_string(account) + "]::BIGINT[], 2)"), PGRES_TUPLES_OK);
    std::atomic<bool> returned{false};
    std::size_t claimed = 0;
    std::thread claimer([&] {
        auto r = two_->ClaimRuns("w", 5, now_, now_ + 30'000'000);
        ASSERT_TRUE(r.ok()) << r.error().detail;
        claimed = r->size();
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(returned) << "the claim did not wait for the account's slots lock";
    EXPECT_TRUE(Enqueue(*one_, partner, account, automation, 100, now_ + 1).ok()) << "queued meanwhile";
    ASSERT_EQ(exec("COMMIT"), PGRES_COMMAND_OK);
    claimer.join();
    EXPECT_EQ(claimed, 1u) << "the claim took what was queued when it looked";
    auto next = two_->ClaimRuns("w", 5, now_, now_ + 30'000'000);
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->size(), 1u) << "the run queued while it waited";
    PQfinish(holder);
}

// A connection of a test's own whose statements' plans, those inside functions included, are collected:
// auto_explain, loaded into its session, logs every plan, and client_min_messages = log sends the log here.
class PlansSession {
  public:
    explicit PlansSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
        PQsetNoticeProcessor(
            conn_, [](void* out, const char* message) { static_cast<std::string*>(out)->append(message); }, &plans_);
    }
    ~PlansSession() { PQfinish(conn_); }
    PlansSession(const PlansSession&) = delete;
    PlansSession& operator=(const PlansSession&) = delete;

    // Starts collecting; false when the connection or auto_explain failed.
    bool Explain() {
        if (PQstatus(conn_) != CONNECTION_OK) return false;
        for (const char* sql : {"LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                                "SET auto_explain.log_nested_statements = on", "SET client_min_messages = log"}) {
            if (Exec(sql).first != PGRES_COMMAND_OK) return false;
        }
        return true;
    }
    // The statement's status and the rows it returned ($1, $2, ... are `params`).
    std::pair<ExecStatusType, int> Exec(const std::string& sql, const std::vector<std::string>& params = {}) {
        std::vector<const char*> values;
        for (const auto& p : params) values.push_back(p.c_str());
        PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                                   nullptr, 0);
        std::pair<ExecStatusType, int> out{PQresultStatus(r), PQntuples(r)};
        PQclear(r);
        return out;
    }
    std::string TakePlans() { return std::exchange(plans_, {}); }
    std::string Error() const { return PQerrorMessage(conn_); }

  private:
    PGconn* conn_;
    std::string plans_;
};

TEST_F(PgScaleOutTest, AClaimReadsRunsByIndexEvenWhenItsPlansWereMadeOnAnEmptyTable) {
    // weft_claim_runs keeps the plans of a connection's first claim (migrations 14 and 17). In a new database the
    // tables are tiny then; a plan that scans all of runs would be kept as runs grow.
    const PartnerId partner = MakePartner(100, 5);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    PlansSession session(backend_.Url());
    ASSERT_TRUE(session.Explain()) << session.Error();
    const std::string claim = "SELECT * FROM weft_claim_runs('w', 5, " + std::to_string(now_) + ", " +
                              std::to_string(now_ + 30'000'000) + ", 64, 2000, 1)";
    for (int round = 0; round < 2; ++round) {
        // The first round's claim makes the plans; the second's, after more runs, reuses them.
        for (int i = 0; i < (round == 0 ? 1 : 200); ++i) {
            ASSERT_TRUE(Enqueue(*one_, partner, account, automation, 1000, now_ + i).ok());
        }
        const auto [status, rows] = session.Exec(claim);
        ASSERT_EQ(status, PGRES_TUPLES_OK) << session.Error();
        EXPECT_EQ(rows, round == 0 ? 1 : 4);  // concurrency 5
        const std::string plans = session.TakePlans();
        EXPECT_NE(plans.find("Index"), std::string::npos) << "no plans reached the client:\n" << plans;
        EXPECT_EQ(plans.find("Seq Scan on runs"), std::string::npos) << plans;
    }
}

TEST_F(PgScaleOutTest, ARateDecisionReadsItsWindowsAdmissionsByIndex) {
    // Admission times always lie beyond what the statistics of rate_admissions have seen, so the planner takes
    // "expired" for every admission of a key; a plan that scans them all would be made at every decision.
    constexpr Micros kWindow = 60'000'000;
    auto decide = [&](Micros at, int calls) {
        return "SELECT * FROM weft_rate_admit_many(ARRAY['k'], ARRAY[100000]::BIGINT[], ARRAY[" +
               std::to_string(calls) + "]::BIGINT[], ARRAY[" + std::to_string(at) + "]::BIGINT[], " +
               std::to_string(kWindow) + ", NULL)";
    };
    PlansSession session(backend_.Url());
    ASSERT_EQ(session.Exec(decide(now_, 3000)).first, PGRES_TUPLES_OK) << session.Error();
    // 3 000 admissions of the key, spread over the minute before its last, as statistics have them: half of them
    // expired at the decision.
    ASSERT_EQ(session
                  .Exec("INSERT INTO rate_admissions (window_key, admitted_at, calls) SELECT 'k', " +
                        std::to_string(now_ - kWindow) + " + g * 20000, 1 FROM generate_series(1, 2999) AS g")
                  .first,
              PGRES_COMMAND_OK);
    ASSERT_EQ(session.Exec("ANALYZE rate_admissions").first, PGRES_COMMAND_OK);
    ASSERT_TRUE(session.Explain()) << session.Error();
    ASSERT_EQ(session.Exec(decide(now_ + kWindow / 2, 1)).first, PGRES_TUPLES_OK) << session.Error();
    const std::string plans = session.TakePlans();
    EXPECT_NE(plans.find("rate_admissions"), std::string::npos) << "no plans reached the client:\n" << plans;
    EXPECT_EQ(plans.find("Seq Scan on rate_admissions"), std::string::npos) << plans;
}

TEST_F(PgScaleOutTest, ARateDecisionDoesNotWalkTheAdmissionsItsWindowDeletedBefore) {
    // Deleted admissions stay in the index until a vacuum; a key's decisions must not read them again, or every
    // decision under steady traffic reads every admission the key let go since the last vacuum.
    constexpr Micros kWindow = 60'000'000;
    auto decide = [&](Micros at) {
        return "SELECT * FROM weft_rate_admit_many(ARRAY['k'], ARRAY[100000]::BIGINT[], ARRAY[1]::BIGINT[], ARRAY[" +
               std::to_string(at) + "]::BIGINT[], " + std::to_string(kWindow) + ", NULL)";
    };
    PlansSession session(backend_.Url());
    ASSERT_EQ(session.Exec(decide(now_)).first, PGRES_TUPLES_OK) << session.Error();
    // 20 000 admissions in the key's window, then a decision after all of them left it: it deletes them.
    ASSERT_EQ(session
                  .Exec("INSERT INTO rate_admissions (window_key, admitted_at, calls) SELECT 'k', " +
                        std::to_string(now_) + " + g, 1 FROM generate_series(1, 20000) AS g")
                  .first,
              PGRES_COMMAND_OK);
    ASSERT_EQ(session.Exec("UPDATE rate_windows SET used = used + 20000 WHERE window_key = 'k'").first,
              PGRES_COMMAND_OK);
    ASSERT_EQ(session.Exec(decide(now_ + kWindow + 30'000)).first, PGRES_TUPLES_OK) << session.Error();
    ASSERT_TRUE(session.Explain()) << session.Error();
    ASSERT_EQ(session.Exec("SET auto_explain.log_analyze = on").first, PGRES_COMMAND_OK);
    ASSERT_EQ(session.Exec("SET auto_explain.log_buffers = on").first, PGRES_COMMAND_OK);
    const auto [status, rows] = session.Exec(decide(now_ + kWindow + 30'001));
    ASSERT_EQ(status, PGRES_TUPLES_OK) << session.Error();
    const std::string plans = session.TakePlans();
    // The pages the delete's index scan read: "Buffers: shared hit=N read=M" under the scan of the index.
    const auto scan = plans.find("rate_admissions_by_key");
    ASSERT_NE(scan, std::string::npos) << plans;
    const auto buffers = plans.find("Buffers:", scan);
    ASSERT_NE(buffers, std::string::npos) << plans;
    int pages = 0;
    for (const char* kind : {"hit=", "read="}) {
        const auto at = plans.find(kind, buffers);
        if (at != std::string::npos && at < plans.find('\n', buffers))
            pages += std::stoi(plans.substr(at + std::strlen(kind)));
    }
    EXPECT_GT(pages, 0) << plans;
    EXPECT_LE(pages, 5) << plans;
}

TEST_F(PgScaleOutTest, AnEnqueuePlansItsStatementsOnceAndCountsAnAccountsRunsByIndex) {
    // weft_enqueue_runs and the rate decision it calls keep the plans of a connection's first enqueue (migration
    // 19): plans made for each call's values cost more than the statements. Made in a new database, they must
    // still find an account's runs by index as runs grow, and not read every queued run of every account.
    const PartnerId partner = MakePartner(100'000, 1'000);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    const auto [other, other_automation] = MakeAccountAndAutomation(partner, "other");
    // The call's values are parameters: the plans logged for the statements inside show them only if they were
    // made for them.
    const std::string enqueue =
        "SELECT * FROM weft_enqueue_runs(ARRAY[$1::BIGINT], ARRAY[$2::BIGINT], ARRAY[$3::BIGINT], ARRAY[$4::TEXT], "
        "ARRAY['api_sync'], ARRAY['start'], ARRAY['{}'], ARRAY[NULL]::TEXT[], ARRAY[0]::BIGINT[], "
        "ARRAY[NULL]::BIGINT[], ARRAY[$5::BIGINT], ARRAY[$5::BIGINT], ARRAY[100000]::BIGINT[], ARRAY['w'], "
        "ARRAY[$5::BIGINT], ARRAY[1000]::BIGINT[], ARRAY[$6::TEXT], ARRAY[100000]::BIGINT[], ARRAY[$5::BIGINT], "
        "ARRAY[(SELECT epoch FROM config_epoch)], 60000000)";
    const std::string key = "plans-window-key";
    PlansSession session(backend_.Url());
    ASSERT_TRUE(session.Explain()) << session.Error();
    for (int round = 0; round < 2; ++round) {
        // The first round's enqueue makes the plans on empty tables; the second's, after 2 000 runs queued in
        // another account, reuses them.
        if (round == 1) {
            for (int i = 0; i < 2000; ++i) {
                ASSERT_TRUE(Enqueue(*one_, partner, other, other_automation, 100'000, now_ + i).ok());
            }
        }
        const auto [status, rows] =
            session.Exec(enqueue, {std::to_string(partner), std::to_string(account), std::to_string(automation),
                                   NewGuid(now_), std::to_string(now_ + 10'000 + round), key});
        ASSERT_EQ(status, PGRES_TUPLES_OK) << session.Error();
        EXPECT_EQ(rows, 1);
        const std::string plans = session.TakePlans();
        EXPECT_NE(plans.find("rate_admissions"), std::string::npos) << "no plans reached the client:\n" << plans;
        EXPECT_EQ(plans.find(key), std::string::npos) << "plans made for the call's values:\n" << plans;
        EXPECT_EQ(plans.find("Seq Scan on runs"), std::string::npos) << plans;
        EXPECT_EQ(plans.find("Filter: (account_id"), std::string::npos) << "runs of every account read:\n" << plans;
    }
}

TEST_F(PgScaleOutTest, RateLimitWindowsAreExactAcrossProcesses) {
    pg::PgRateLimiter a(one_->database()), b(two_->database());
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                if ((t % 2 ? b : a).Admit("a:1", 50, now_ + i).allowed) ++admitted;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(admitted, 50);
    const RateDecision refused = a.Admit("a:1", 50, now_ + 30'000'000);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after, 30);
    EXPECT_TRUE(b.Admit("a:1", 50, now_ + 60'000'000).allowed) << "the first admissions left the window";
    EXPECT_TRUE(a.Admit("a:2", 50, now_).allowed) << "windows are per key";
}

TEST_F(PgScaleOutTest, ConcurrentCallsOfOneProcessAreDecidedInGroupsInArrivalOrder) {
    // Sixteen threads on one limiter: their calls meet in groups (one statement each); every call admitted has
    // its own `remaining`, the refused ones are told when to retry, and other keys decided alongside keep their
    // own windows.
    pg::PgRateLimiter limiter(one_->database());
    std::mutex mu;
    std::multiset<int> remaining;
    std::atomic<int> refused{0}, other_admitted{0}, bad_retry{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 15; ++i) {
                if (t % 4 == 3) {
                    if (limiter.Admit("other", 1000, now_ + i).allowed) ++other_admitted;
                    continue;
                }
                const RateDecision d = limiter.Admit("busy", 100, now_ + i);
                EXPECT_EQ(d.limit, 100);
                if (d.allowed) {
                    std::lock_guard lock(mu);
                    remaining.insert(d.remaining);
                } else {
                    ++refused;
                    if (d.retry_after < 1 || d.retry_after > 60) ++bad_retry;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(remaining.size(), 100u);
    int expected = 0;
    for (int r : remaining) EXPECT_EQ(r, expected++) << "each admitted call has its own place in the window";
    EXPECT_EQ(refused, 12 * 15 - 100);
    EXPECT_EQ(bad_retry, 0);
    EXPECT_EQ(other_admitted, 4 * 15);
    // The window as the next caller (another process) sees it.
    pg::PgRateLimiter two(two_->database());
    EXPECT_FALSE(two.Admit("busy", 100, now_ + 100).allowed);
    EXPECT_EQ(two.Admit("other", 1000, now_ + 100).remaining, 1000 - 60 - 1);
    EXPECT_TRUE(two.Admit("busy", 100, now_ + 60'000'000 + 15).allowed) << "every admission left the window";
}

TEST_F(PgScaleOutTest, CallsDecidedTogetherLeaveTheWindowTogetherAndRetryAfterCountsThem) {
    // Calls decided in one group are one row with their count: a refused call is told to retry when enough of the
    // oldest admitted calls, counted one by one across the groups, have left the window.
    using Decision = std::tuple<std::int64_t, std::int64_t, std::optional<std::int64_t>>;  // used, admitted, retry_at
    auto admit = [&](std::int64_t lim, std::int64_t n, Micros at) {
        return one_->database().Read([&](sql::Connection& c) {
            sql::Statement s(
                c,
                "SELECT used, admitted, retry_at FROM weft_rate_admit_many(ARRAY['g'], "
                "ARRAY[CAST(? AS BIGINT)], ARRAY[CAST(? AS BIGINT)], ARRAY[CAST(? AS BIGINT)], 60000000, NULL)");
            s.Bind(lim).Bind(n).Bind(at);
            auto row = s.Step();
            EXPECT_TRUE(row && *row);
            return Decision(s.Int(0), s.Int(1), s.IsNull(2) ? std::nullopt : std::optional<std::int64_t>(s.Int(2)));
        });
    };
    EXPECT_EQ(admit(5, 3, now_), Decision(0, 3, std::nullopt));
    EXPECT_EQ(admit(5, 4, now_ + 10'000'000), Decision(3, 2, now_ + 60'000'000))
        << "one more call needs one of the first group's three to leave";
    // The limit lowered to 2: 5 - 2 + 1 = 4 calls must leave, the first group's three and one of the second's.
    EXPECT_EQ(admit(2, 1, now_ + 20'000'000), Decision(5, 0, now_ + 70'000'000));
    EXPECT_EQ(admit(5, 5, now_ + 60'000'000), Decision(2, 3, now_ + 70'000'000))
        << "the first group left the window together";
    EXPECT_EQ(admit(5, 1, now_ + 70'000'000), Decision(3, 1, std::nullopt)) << "and then the second";
}

TEST_F(PgScaleOutTest, ARateDecisionConfirmsLookupsFromMemoryAndDecidesNothingWhenAnotherProcessChangedThem) {
    const PartnerId partner = MakePartner(10, 5);
    pg::PgRateLimiter limiter(one_->database(), [this](std::int64_t epoch) { one_->ObserveConfigEpoch(epoch); });
    ASSERT_TRUE(one_->GetPartnerCredentials(partner, std::nullopt, false, true));  // kept in memory
    auto kept = one_->GetPartnerCredentials(partner, std::nullopt, false, true);
    ASSERT_TRUE(kept && kept->from_memory && kept->unconfirmed_epoch);
    const std::string window = "p:" + std::to_string(partner);
    const RateDecision first = limiter.AdmitConfirming(window, 7, now_, *kept->unconfirmed_epoch);
    EXPECT_TRUE(first.allowed && !first.stale);
    EXPECT_EQ(first.remaining, 6);

    // Another process lowers the limit: this one's memory still has the old one, and the decision says so.
    PartnerLimits lower = kept->partner.limits;
    lower.rate_limit = 3;
    ASSERT_TRUE(two_->UpdatePartnerLimits(partner, lower, now_));
    auto old = one_->GetPartnerCredentials(partner, std::nullopt, false, true);
    ASSERT_TRUE(old && old->from_memory);
    const RateDecision stale =
        limiter.AdmitConfirming(window, old->partner.limits.rate_limit, now_ + 1, *old->unconfirmed_epoch);
    EXPECT_TRUE(stale.stale);
    EXPECT_FALSE(stale.allowed);

    // The statement's epoch emptied the memory: the next lookup reads the new limit, and the stale call was not
    // counted.
    auto fresh = one_->GetPartnerCredentials(partner, std::nullopt, false, true);
    ASSERT_TRUE(fresh && !fresh->from_memory);
    EXPECT_EQ(fresh->partner.limits.rate_limit, 3);
    ASSERT_TRUE(fresh->unconfirmed_epoch);
    EXPECT_NE(*fresh->unconfirmed_epoch, *old->unconfirmed_epoch);
    const RateDecision second = limiter.AdmitConfirming(window, 3, now_ + 2, *fresh->unconfirmed_epoch);
    EXPECT_TRUE(second.allowed && !second.stale);
    EXPECT_EQ(second.remaining, 1) << "3 - the first call - this one";
    // Calls that confirm nothing are decided as before.
    EXPECT_TRUE(limiter.Admit(window, 3, now_ + 3).allowed);
    EXPECT_FALSE(limiter.Admit(window, 3, now_ + 4).allowed);
}

TEST_F(PgScaleOutTest, ARunCallsRateDecisionIsMadeWhereItsRunIsQueuedAndQueuesNothingUnlessItAdmits) {
    const PartnerId partner = MakePartner(10, 5);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    ASSERT_TRUE(one_->AdmitsInEnqueue());
    auto epoch = one_->database().Read([](sql::Connection& c) {
        return sql::Count(c, "SELECT epoch FROM config_epoch WHERE id = 1", [](sql::Statement&) {});
    });
    ASSERT_TRUE(epoch);
    pg::PgRateLimiter limiter(two_->database());
    ASSERT_TRUE(limiter.Admit("a:x", 3, now_).allowed);  // another process's call on the same window
    auto submit = [&](std::int64_t with_epoch, Micros at) {
        weft::Run r;
        r.account_id = account;
        r.automation_id = automation;
        r.guid = NewGuid(at);
        r.created_at = r.updated_at = at;
        CallAdmission admission{"a:x", 3, at, with_epoch, {}, false};
        auto queued = one_->EnqueueRun(partner, r, 10, at - 1000, nullptr, &admission);
        return std::make_pair(std::move(queued), admission);
    };
    auto [first, a1] = submit(*epoch, now_ + 1);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(a1.decided && a1.decision.allowed && !a1.decision.stale);
    EXPECT_EQ(a1.decision.limit, 3);
    EXPECT_EQ(a1.decision.remaining, 1);
    auto [second, a2] = submit(*epoch, now_ + 2);
    ASSERT_TRUE(second);
    EXPECT_EQ(a2.decision.remaining, 0);
    auto [third, a3] = submit(*epoch, now_ + 3);
    ASSERT_FALSE(third) << "over the limit: refused, and no run";
    EXPECT_TRUE(a3.decided && !a3.decision.allowed && !a3.decision.stale);
    EXPECT_EQ(a3.decision.retry_after, 60);
    // Lookups from an older epoch: nothing decided, nothing queued, nothing counted.
    // (At +60 s the other process's call has left the window: one place is free.)
    auto [stale, a4] = submit(*epoch - 1, now_ + 60'000'000);
    ASSERT_FALSE(stale);
    EXPECT_TRUE(a4.decided && a4.decision.stale);
    const RateDecision after = limiter.Admit("a:x", 3, now_ + 60'000'000);
    EXPECT_TRUE(after.allowed) << "the stale call took no place";
    EXPECT_EQ(after.remaining, 0);
    auto runs = one_->database().Read([&](sql::Connection& c) {
        return sql::Count(c, "SELECT COUNT(*) FROM runs WHERE account_id = ?",
                          [&](sql::Statement& q) { q.Bind(account); });
    });
    ASSERT_TRUE(runs);
    EXPECT_EQ(*runs, 2);
}

TEST_F(PgScaleOutTest, IdleRateWindowsAreSweptAndStartAfresh) {
    pg::PgRateLimiter a(one_->database());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(a.Admit("idle", 5, now_ + i).allowed);
    EXPECT_FALSE(a.Admit("idle", 5, now_ + 10).allowed);
    // A thousand calls on other keys a minute later sweep the idle key away.
    for (int i = 0; i < 1000; ++i)
        ASSERT_TRUE(a.Admit("busy:" + std::to_string(i % 7), 1000, now_ + 61'000'000).allowed);
    auto left = one_->database().Read([](sql::Connection& c) {
        sql::Statement s(c,
                         "SELECT COUNT(*) FROM rate_windows w JOIN rate_admissions r ON r.window_key = w.window_key "
                         "WHERE w.window_key = 'idle'");
        (void)s.Step();
        return s.Int(0);
    });
    EXPECT_EQ(left, 0);
    const RateDecision fresh = a.Admit("idle", 5, now_ + 62'000'000);
    EXPECT_TRUE(fresh.allowed);
    EXPECT_EQ(fresh.remaining, 4);
    // Counters stay exact for the busy keys: key 0 had 143 calls (0, 7, ..., 994) and has room for 857 more.
    EXPECT_EQ(a.Admit("busy:0", 1000, now_ + 62'000'000).remaining, 1000 - 143 - 1);
}

TEST_F(PgScaleOutTest, OneLeaderAtATimeAndAnotherTakesOverWhenItGoes) {
    const std::string url = backend_.Url();
    auto first = std::make_unique<pg::LeaderLock>(url, 42, std::chrono::milliseconds(0));
    pg::LeaderLock second(url, 42, std::chrono::milliseconds(0));
    EXPECT_TRUE(first->Held());
    EXPECT_FALSE(second.Held());
    EXPECT_TRUE(first->Held());
    first.reset();  // the process (its session) goes away
    bool taken = false;
    for (int i = 0; i < 50 && !taken; ++i) {
        taken = second.Held();
        if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(taken);
}

TEST_F(PgScaleOutTest, ARunFinishedByOneProcessIsHeardByAnotherUnlessNoOneWaitsElsewhere) {
    const PartnerId partner = MakePartner(10, 1);
    const auto [account, automation] = MakeAccountAndAutomation(partner);
    const auto quiet = Enqueue(*one_, partner, account, automation, 10, now_);
    const auto announced = Enqueue(*one_, partner, account, automation, 10, now_ + 1);
    ASSERT_TRUE(quiet.ok());
    ASSERT_TRUE(announced.ok());
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::int64_t> heard;
    pg::RunFinishedListener listener(
        backend_.Url(),
        [&](std::int64_t id) {
            std::lock_guard lock(mu);
            heard.insert(id);
            cv.notify_all();
        },
        [] {});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // LISTEN is in place
    // An end whose callers (if any) all wait in the process that ends it is not announced...
    ASSERT_EQ(two_->ClaimRuns("w", 1, now_, now_ + 30'000'000)->size(), 1u);
    RunOutcome o{kRunStatusFinished, "{}",         std::nullopt, std::nullopt, now_, {}, nullptr,
                 std::nullopt,       std::nullopt, false};
    ASSERT_TRUE(two_->FinishRun(quiet->id, o).ok());
    // ...the next one is. Notifications arrive in commit order, so once the second is heard the first would be.
    ASSERT_EQ(two_->ClaimRuns("w", 1, now_ + 2, now_ + 30'000'000)->size(), 1u);
    o.announce = true;
    ASSERT_TRUE(two_->FinishRun(announced->id, o).ok());
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return heard.count(announced->id) > 0; }));
    EXPECT_EQ(heard.count(quiet->id), 0u);
}

}  // namespace
}  // namespace weft
