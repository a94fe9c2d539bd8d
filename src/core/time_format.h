#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace weft {

// "2026-11-28T07:38:41.000000Z": the API's timestamp format.
std::string FormatTimestamp(Micros t);

// Parses "YYYY-MM-DD HH:MM:SS" (as UTC) or the API's own ISO format. nullopt when malformed.
std::optional<Micros> ParseUtcDateTime(std::string_view text);

}  // namespace weft
