#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace weft {

struct RateDecision {
    bool allowed = false;
    int limit = 0;
    int remaining = 0;             // calls left in the current window after this one
    std::int64_t retry_after = 0;  // whole seconds until a call would be admitted (only when refused)
    // AdmitConfirming only: the lookups to confirm were out of date, or could not be confirmed; nothing was
    // decided (nor counted), and the call must be looked up again and decided by Admit.
    bool stale = false;
};

// RateDecision::retry_after of a call refused at `now` that would be admitted at `frees_at`: whole seconds,
// rounded up, at least one.
inline std::int64_t RetryAfterSeconds(Micros frees_at, Micros now) {
    return std::max<std::int64_t>(1, (frees_at - now + 999'999) / 1'000'000);
}

// A run call's rate decision left to the statement that queues its run (PostgreSQL: Store::EnqueueRun), with
// the check of the lookups it made from memory (RateLimiter::AdmitConfirming): one statement instead of two.
// The store fills in `decision` and sets `decided`; a decision that is `stale`, or not allowed, queued nothing.
struct CallAdmission {
    std::string window;
    int limit = 0;
    Micros now = 0;
    std::int64_t epoch = 0;  // to confirm
    RateDecision decision;
    bool decided = false;
};

// Sliding 60-second window: a call is admitted when fewer than `limit` calls were admitted in the 60 seconds
// before it. Refused calls do not count. The port exists so that scale-out can share windows in the database.
class RateLimiter {
  public:
    virtual ~RateLimiter() = default;
    virtual RateDecision Admit(const std::string& key, int limit, Micros now) = 0;
    // Admit, for a call whose lookups came from memory unchecked (PartnerCredentials::unconfirmed_epoch): the
    // decision is made only when the store's config epoch is still `epoch`, in the same step (PostgreSQL: the
    // same statement), else the decision is `stale`. A limiter that cannot read the store's epoch (in memory)
    // answers `stale` (the call is then looked up with its own check; SQLite's lookups never defer it).
    virtual RateDecision AdmitConfirming(const std::string& key, int limit, Micros now, std::int64_t epoch) {
        (void)key, (void)limit, (void)now, (void)epoch;
        RateDecision stale;
        stale.stale = true;
        return stale;
    }
};

// Exact in one process: keeps the admission times of each key's current window. Memory is bounded by
// limit x active keys; idle keys are swept.
class InMemoryRateLimiter final : public RateLimiter {
  public:
    static constexpr Micros kWindow = 60'000'000;

    RateDecision Admit(const std::string& key, int limit, Micros now) override;

  private:
    struct Window {
        std::deque<Micros> admitted;
    };

    static constexpr int kShards = 32;
    struct Shard {
        std::mutex mu;
        std::unordered_map<std::string, Window> windows;
        Micros last_sweep = 0;
    };
    Shard shards_[kShards];
};

}  // namespace weft
