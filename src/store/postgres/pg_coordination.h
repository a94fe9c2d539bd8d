#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "domain/rate_limiter.h"
#include "store/postgres/pg_db.h"
#include "store/sql/combiner.h"

// What processes sharing one PostgreSQL database coordinate through it, beyond the store's own transactions:
// rate-limit windows, the one active scheduler, and runs finishing on another process.
namespace weft::pg {

// Sliding 60-second windows kept in the database (tables rate_windows, rate_admissions), exact across
// processes: a key's calls are decided under its window row's lock. Same semantics as InMemoryRateLimiter.
// The calls of this process that arrive while a decision is in the database are decided together in the next
// one (weft_rate_admit_many, one round trip): a busy key costs one row lock per group, not per call, and its
// calls wait here rather than in the database's lock queue. Within a group a key's calls are admitted in
// arrival order. The same statement reads config_epoch: it confirms the lookups that calls made from memory
// (AdmitConfirming), and `observe_epoch` (the store's lookup cache) learns of every change it sees.
class PgRateLimiter final : public RateLimiter {
  public:
    explicit PgRateLimiter(sql::Database& db, std::function<void(std::int64_t)> observe_epoch = nullptr)
        : db_(db), observe_epoch_(std::move(observe_epoch)) {}
    // A database failure admits the call (and logs nothing here): the limiter protects capacity, it is not a
    // security boundary, and the call itself then meets the same database. (AdmitConfirming answers `stale`
    // instead: nothing confirmed the call's lookups.)
    RateDecision Admit(const std::string& key, int limit, Micros now) override;
    RateDecision AdmitConfirming(const std::string& key, int limit, Micros now, std::int64_t epoch) override;

  private:
    struct Request {
        const std::string* key;
        int limit;
        Micros now;
        std::optional<std::int64_t> epoch;  // to confirm
        RateDecision decision;
        bool done = false;
    };
    void Decide(const std::vector<Request*>& batch);
    // One statement for calls that confirm the same epoch (or none).
    void DecideGroup(const std::vector<Request*>& batch, std::optional<std::int64_t> epoch);

    sql::Database& db_;
    std::function<void(std::int64_t)> observe_epoch_;
    sql::Combiner<Request> groups_;
    int since_sweep_ = 0;  // calls since the last sweep of idle windows (under the combiner: one batch at a time)
};

// A session-level advisory lock on a dedicated connection: the process holding it is the leader (the one
// active scheduler). The lock goes with the connection, so a process that dies loses it at once; the others
// re-try every `retry` and one of them takes over.
class LeaderLock {
  public:
    LeaderLock(std::string url, std::int64_t key, std::chrono::milliseconds retry = std::chrono::seconds(2));
    ~LeaderLock();
    // True while this process holds the lock (the connection is checked every `retry`); when it does not,
    // tries to take it (at most every `retry`).
    bool Held();

  private:
    std::string url_;
    std::int64_t key_;
    std::chrono::milliseconds retry_;
    std::mutex mu_;
    std::unique_ptr<Connection> conn_;
    bool held_ = false;
    std::chrono::steady_clock::time_point last_attempt_{};
};

// Listens (on a dedicated connection and thread) for runs finished by any process: the store's FinishRun
// notifies channel weft_run_finished with the run id. `on_finished(run_id)` is called for each; `on_poll()`
// every `poll` as a fallback for notifications lost while the connection was down.
class RunFinishedListener {
  public:
    RunFinishedListener(std::string url, std::function<void(std::int64_t)> on_finished, std::function<void()> on_poll,
                        std::chrono::milliseconds poll = std::chrono::seconds(1));
    ~RunFinishedListener();
    void Stop();

  private:
    void Loop();

    std::string url_;
    std::function<void(std::int64_t)> on_finished_;
    std::function<void()> on_poll_;
    std::chrono::milliseconds poll_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

constexpr const char* kRunFinishedChannel = "weft_run_finished";
constexpr std::int64_t kSchedulerLockKey = 0x77656674'7363686c;  // "weftschl"

}  // namespace weft::pg
