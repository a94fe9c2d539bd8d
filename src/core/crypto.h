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

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// Standard base64 (padding optional); false on malformed input.
bool Base64Decode(std::string_view text, std::string& out);

// AES-256-GCM. `key` is 32 bytes. Output: 12-byte random nonce, ciphertext, 16-byte tag (binary).
std::string AesGcmEncrypt(std::string_view key, std::string_view plaintext);
// False when the key is wrong or the data was altered.
bool AesGcmDecrypt(std::string_view key, std::string_view sealed, std::string& plaintext);

}  // namespace weft
