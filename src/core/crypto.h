#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft {

// Cryptographic helpers over OpenSSL. Kept in one place so no other file touches the OpenSSL API.

// n bytes from the OS CSPRNG. Throws on RNG failure (a start-up/bug condition, never expected).
std::string RandomBytes(size_t n);

// A random token of `length` characters from [A-Za-z0-9], unbiased.
std::string RandomToken(size_t length);

std::array<std::uint8_t, 32> Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Constant-time equality for secrets of equal length (length itself is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HexEncode(std::string_view bytes);

}  // namespace weft
