#include "domain/rate_limiter.h"

#include <functional>

namespace weft {

RateDecision InMemoryRateLimiter::Admit(const std::string& key, int limit, Micros now) {
    Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
    std::lock_guard lock(shard.mu);
    if (now - shard.last_sweep > kWindow) {
        for (auto it = shard.windows.begin(); it != shard.windows.end();) {
            auto& q = it->second.admitted;
            while (!q.empty() && q.front() <= now - kWindow) q.pop_front();
            it = q.empty() ? shard.windows.erase(it) : std::next(it);
        }
        shard.last_sweep = now;
    }
    auto& q = shard.windows[key].admitted;
    while (!q.empty() && q.front() <= now - kWindow) q.pop_front();
    // A limit lowered live can leave more admissions in the window than the new limit.
    const auto used = static_cast<int>(q.size());
    RateDecision d;
    d.limit = limit;
    if (used < limit) {
        q.push_back(now);
        d.allowed = true;
        d.remaining = limit - used - 1;
        return d;
    }
    d.allowed = false;
    d.remaining = 0;
    // The call is admitted once enough of the oldest admissions have left the window.
    const Micros frees_at = q[static_cast<size_t>(used - limit)] + kWindow;
    d.retry_after = RetryAfterSeconds(frees_at, now);
    return d;
}

}  // namespace weft
