#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/result.h"
#include "domain/store.h"
#include "store/sql/combiner.h"

namespace weft::sql {

// The two lookups every run through the API makes (a partner's credentials with the addressed account; the
// automation to run), kept in memory.
//
// They are checked against `config_epoch` (migration 11), a counter that database triggers bump with every
// insert, update or delete of a partner, API key, account or automation, whoever makes it; a new value empties
// the cache. Changes made through this process also empty it at once: every SqlStore write to those tables
// calls Invalidate() after its commit. How often the counter is read is `recheck`:
// - zero: at every lookup, so a lookup is never stale, whichever process made the change (PostgreSQL, where
//   processes behind one load balancer must read each other's writes). Lookups that arrive while a read of the
//   counter is under way share the next one (sql::Combiner): it starts after each of them began, so it is as
//   good as their own, and a busy process makes one read per round trip rather than one per lookup;
// - more: at most once per `recheck`, by the first lookup after it has passed (the others go on meanwhile),
//   so another process's change takes effect here within `recheck` (SQLite, where the only other process is a
//   CLI command on the same file, and a read per lookup would cost about what it saves).
//
// A value read from the database is kept only when the cache was not emptied since its lookup began (the
// generation Begin handed out), so a read that raced a change cannot put the old value back.
class LookupCache {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    // `read_epoch`: the database's config_epoch now. `now`: the clock `recheck` is measured on.
    LookupCache(
        std::function<Result<std::int64_t>()> read_epoch, std::chrono::milliseconds recheck,
        std::function<TimePoint()> now = [] { return std::chrono::steady_clock::now(); });

    // The start of a lookup: reads the epoch when due (emptying the cache when it moved), then returns the
    // generation to hand to Put*.
    std::uint64_t Begin();
    // The start of a lookup whose check of freshness is left to a statement the caller makes anyway (on
    // PostgreSQL, the call's rate decision, which reads config_epoch in the same statement): when the cache
    // knows its epoch (`recheck` zero only), nothing is read now, and `epoch` is the epoch the kept values
    // belong to. The caller must not rely on what it finds before that statement confirmed `epoch`; it hands what
    // the statement read to Observe. Otherwise as Begin (and `epoch` is empty).
    struct Deferred {
        std::uint64_t generation = 0;
        std::optional<std::int64_t> epoch;
    };
    Deferred BeginDeferred();
    // The epoch as a statement read it just now: a value other than the one kept empties the cache.
    void Observe(const Result<std::int64_t>& epoch);
    // True while nothing emptied the cache since Begin handed out `generation`: a later lookup for the same
    // caller may rely on that Begin instead of making its own.
    bool Unchanged(std::uint64_t generation);

    std::optional<PartnerCredentials> FindCredentials(const std::string& key);
    void PutCredentials(const std::string& key, const PartnerCredentials& value, std::uint64_t generation);
    std::optional<Automation> FindAutomation(const std::string& key);
    void PutAutomation(const std::string& key, const Automation& value, std::uint64_t generation);

    // Forgets everything (after a write of this process that may have changed a kept value).
    void Invalidate();

    // Each map holds at most this many values; one that would grow past it starts again empty (a bound on
    // memory whatever keys callers name).
    static constexpr std::size_t kMaxEntries = 10000;

  private:
    template <typename Value>
    std::optional<Value> FindIn(const std::unordered_map<std::string, Value>& map, const std::string& key);
    template <typename Value>
    void PutIn(std::unordered_map<std::string, Value>& map, const std::string& key, const Value& value,
               std::uint64_t generation);
    void ClearLocked();

    std::function<Result<std::int64_t>()> read_epoch_;
    const std::chrono::milliseconds recheck_;
    std::function<TimePoint()> now_;
    std::atomic<TimePoint::rep> next_check_{std::numeric_limits<TimePoint::rep>::min()};
    std::atomic<bool> checking_{false};
    struct EpochRead {
        std::optional<Result<std::int64_t>> epoch;
        bool done = false;
    };
    Combiner<EpochRead> epoch_reads_;

    std::mutex mu_;
    std::uint64_t generation_ = 0;
    std::optional<std::int64_t> epoch_;  // the epoch the kept values belong to; unknown: nothing is kept
    std::unordered_map<std::string, PartnerCredentials> credentials_;
    std::unordered_map<std::string, Automation> automations_;
};

}  // namespace weft::sql
