#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "engine/value.h"

namespace weft::engine {

// Helpers shared by the formula groups.

inline const json::value& Arg(std::span<const json::value> args, std::size_t i) {
    static const json::value kNull;
    return i < args.size() ? args[i] : kNull;
}

inline std::string ArgText(std::span<const json::value> args, std::size_t i) { return ToText(Arg(args, i)); }

// Byte offsets of each UTF-8 code point start in `s`, plus s.size() at the end.
inline std::vector<std::size_t> CodePointOffsets(std::string_view s) {
    std::vector<std::size_t> offsets;
    offsets.reserve(s.size() + 1);
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
    }
    offsets.push_back(s.size());
    return offsets;
}

inline std::size_t CodePointCount(std::string_view s) { return CodePointOffsets(s).size() - 1; }

}  // namespace weft::engine
