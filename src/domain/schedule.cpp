#include "domain/schedule.h"

#include <date/tz.h>

namespace weft {

namespace {

constexpr Micros kSecond = 1'000'000;
constexpr std::int64_t kDay = 86400;

bool Scheduled(const Automation& b) {
    return b.run_mode == "scheduled" && b.state == "available" && b.schedule_interval >= 0;
}

// `t` plus `steps` intervals.
Micros Step(Micros t, std::int64_t interval, std::int64_t steps, const std::string& tz) {
    if (interval % kDay == 0) {
        try {
            const auto* zone = date::locate_zone(tz);
            const date::sys_time<std::chrono::microseconds> st{std::chrono::microseconds{t}};
            auto local = zone->to_local(st);
            local += date::days{interval / kDay * steps};
            return date::zoned_time<std::chrono::microseconds>(zone, local, date::choose::earliest)
                .get_sys_time()
                .time_since_epoch()
                .count();
        } catch (const std::exception&) {
            // An unknown zone (validated on input, so only an old row) steps in UTC.
        }
    }
    return t + interval * steps * kSecond;
}

// The first tick base + k*interval (k >= min_steps) strictly after `after`.
Micros FirstAfter(Micros base, std::int64_t interval, std::int64_t min_steps, Micros after, const std::string& tz) {
    std::int64_t k = min_steps;
    const Micros span = interval * kSecond;
    if (after >= base) k = std::max<std::int64_t>(k, (after - base) / span);  // estimate in UTC, then adjust
    Micros t = Step(base, interval, k, tz);
    while (t <= after) t = Step(base, interval, ++k, tz);
    while (k > min_steps) {
        const Micros prev = Step(base, interval, k - 1, tz);
        if (prev <= after) break;
        t = prev;
        --k;
    }
    return t;
}

std::optional<Micros> BeforeStop(const Automation& b, Micros t) {
    if (b.schedule_stop_at && t > *b.schedule_stop_at) return std::nullopt;
    return t;
}

}  // namespace

std::optional<Micros> FirstTick(const Automation& b, Micros now) {
    if (!Scheduled(b)) return std::nullopt;
    const Micros base = b.schedule_start_at.value_or(now);
    if (base >= now) return BeforeStop(b, base);
    if (b.schedule_interval == 0) return BeforeStop(b, now);
    return BeforeStop(b, FirstAfter(base, b.schedule_interval, 1, now - 1, b.schedule_timezone));
}

std::optional<Micros> TickAfter(const Automation& b, Micros fired, Micros now) {
    if (!Scheduled(b) || b.schedule_interval == 0) return std::nullopt;
    return BeforeStop(b, FirstAfter(fired, b.schedule_interval, 1, std::max(fired, now), b.schedule_timezone));
}

}  // namespace weft
