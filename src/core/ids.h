#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace weft {

// Lowercase UUID version 7 (time-ordered): 48-bit Unix milliseconds, then random bits.
std::string NewGuid(Micros now);

// True for a lowercase or uppercase canonical 8-4-4-4-12 UUID text.
bool LooksLikeGuid(std::string_view text);

}  // namespace weft
