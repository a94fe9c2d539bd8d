#pragma once

#include <optional>

#include "core/clock.h"
#include "domain/entities.h"

namespace weft {

// Schedule arithmetic (DESIGN.md "Runs and the queue"). Ticks step by schedule_interval seconds; intervals of
// whole days step in the schedule's time zone, so a daily 09:00 run stays at 09:00 across DST changes.

// The first tick of a schedule set (or changed) at `now`: schedule_start_at when still ahead, else the first
// tick after now (a start in the past fires at once for a one-off). Null when the automation is not scheduled
// (run_mode, state, interval -1) or the schedule has stopped.
std::optional<Micros> FirstTick(const Automation& b, Micros now);

// The tick after one that fired at `fired`: ticks missed while the server was down collapse into the next one
// after `now` (they fire once, not N times). Null for a one-off or past schedule_stop_at.
std::optional<Micros> TickAfter(const Automation& b, Micros fired, Micros now);

}  // namespace weft
