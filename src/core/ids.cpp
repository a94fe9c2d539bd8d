#include "core/ids.h"

#include <cstdint>

#include "core/crypto.h"

namespace weft {

std::string NewGuid(Micros now) {
    const auto ms = static_cast<std::uint64_t>(now / 1000);
    std::string bytes = RandomBytes(16);
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<char>((ms >> (40 - 8 * i)) & 0xff);
    bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x70);  // version 7
    bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    const std::string hex = HexEncode(bytes);
    std::string out;
    out.reserve(36);
    out.append(hex, 0, 8).push_back('-');
    out.append(hex, 8, 4).push_back('-');
    out.append(hex, 12, 4).push_back('-');
    out.append(hex, 16, 4).push_back('-');
    out.append(hex, 20, 12);
    return out;
}

bool LooksLikeGuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

}  // namespace weft
