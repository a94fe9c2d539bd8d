#include "domain/schedule.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "domain/automation_service.h"

namespace weft {
namespace {

constexpr Micros kSecond = 1'000'000;

Automation Scheduled(std::int64_t interval, std::optional<std::string> start_local = std::nullopt,
                     std::string tz = "UTC") {
    Automation b;
    b.run_mode = "scheduled";
    b.state = "available";
    b.schedule_interval = interval;
    b.schedule_timezone = tz;
    if (start_local) b.schedule_start_at = LocalToUtc(*start_local, tz);
    return b;
}

Micros Utc(const char* text) { return *ParseUtcDateTime(text); }

TEST(Schedule, NotScheduledHasNoTick) {
    Automation manual = Scheduled(60);
    manual.run_mode = "manual";
    EXPECT_FALSE(FirstTick(manual, 0));
    Automation off = Scheduled(-1);
    EXPECT_FALSE(FirstTick(off, 0));
    Automation disabled = Scheduled(60);
    disabled.state = "disabled";
    EXPECT_FALSE(FirstTick(disabled, 0));
}

TEST(Schedule, FutureStartIsTheFirstTickAndNullStartIsNow) {
    const Micros now = Utc("2026-11-28 10:00:00");
    EXPECT_EQ(FirstTick(Scheduled(3600, "2026-11-28 12:00:00"), now), Utc("2026-11-28 12:00:00"));
    EXPECT_EQ(FirstTick(Scheduled(3600), now), now);
}

TEST(Schedule, PastStartContinuesOnItsGrid) {
    const Micros now = Utc("2026-11-28 10:20:00");
    EXPECT_EQ(FirstTick(Scheduled(900, "2026-11-28 08:00:00"), now), Utc("2026-11-28 10:30:00"));
    // A one-off whose time has passed fires at once.
    EXPECT_EQ(FirstTick(Scheduled(0, "2026-11-28 08:00:00"), now), now);
}

TEST(Schedule, MissedTicksCollapseIntoOne) {
    const Automation b = Scheduled(60, "2026-11-28 10:00:00");
    const Micros fired = Utc("2026-11-28 10:00:00");
    EXPECT_EQ(TickAfter(b, fired, fired), Utc("2026-11-28 10:01:00"));
    // Down for an hour and a half: the next tick is the first after now, not 90 catch-up ticks.
    EXPECT_EQ(TickAfter(b, fired, Utc("2026-11-28 11:30:30")), Utc("2026-11-28 11:31:00"));
}

TEST(Schedule, OneOffFiresOnceAndStopEndsTheSchedule) {
    EXPECT_FALSE(TickAfter(Scheduled(0, "2026-11-28 10:00:00"), Utc("2026-11-28 10:00:00"), 0));
    Automation b = Scheduled(3600, "2026-11-28 10:00:00");
    b.schedule_stop_at = Utc("2026-11-28 11:30:00");
    EXPECT_EQ(TickAfter(b, Utc("2026-11-28 10:00:00"), Utc("2026-11-28 10:00:00")), Utc("2026-11-28 11:00:00"));
    EXPECT_FALSE(TickAfter(b, Utc("2026-11-28 11:00:00"), Utc("2026-11-28 11:00:00")));
}

TEST(Schedule, DailyTicksKeepTheirLocalTimeAcrossDst) {
    // Brussels leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before and 08:00 UTC after.
    const Automation b = Scheduled(86400, "2026-10-24 09:00:00", "Europe/Brussels");
    ASSERT_EQ(b.schedule_start_at, Utc("2026-10-24 07:00:00"));
    const Micros fired = *b.schedule_start_at;
    EXPECT_EQ(TickAfter(b, fired, fired), Utc("2026-10-25 08:00:00"));
    EXPECT_EQ(UtcToLocal(*TickAfter(b, fired, fired), "Europe/Brussels"), "2026-10-25 09:00:00");
}

TEST(Schedule, LocalTimeConversionRejectsBadInput) {
    EXPECT_FALSE(LocalToUtc("2026-11-28", "UTC"));
    EXPECT_FALSE(LocalToUtc("2026-11-28 10:00:00", "Mars/Olympus"));
    EXPECT_EQ(LocalToUtc("2026-11-28 10:00:00", "America/New_York"), Utc("2026-11-28 15:00:00"));
    EXPECT_TRUE(IsAllowedScheduleInterval(900));
    EXPECT_FALSE(IsAllowedScheduleInterval(901));
    (void)kSecond;
}

}  // namespace
}  // namespace weft
