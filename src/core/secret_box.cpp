#include "core/secret_box.h"

#include <cctype>
#include <stdexcept>

#include "core/crypto.h"

namespace weft {

SecretBox::SecretBox(std::string key) {
    if (key.size() != 32) throw std::invalid_argument("the master key must be 32 bytes");
    current_id_ = KeyId(key);
    keys_[current_id_] = std::move(key);
}

void SecretBox::AddOldKey(std::string key) {
    if (key.size() != 32) throw std::invalid_argument("a master key must be 32 bytes");
    const std::string id = KeyId(key);
    keys_.emplace(id, std::move(key));
}

std::string SecretBox::KeyId(std::string_view key) { return Sha256Hex(key).substr(0, 16); }

std::string SecretBox::KeyIdOf(std::string_view sealed) {
    const auto colon = sealed.find(':');
    return colon == std::string_view::npos ? std::string() : std::string(sealed.substr(0, colon));
}

std::string SecretBox::Seal(std::string_view plaintext) const {
    return current_id_ + ":" + Base64Encode(AesGcmEncrypt(keys_.at(current_id_), plaintext));
}

Result<std::string> SecretBox::Open(std::string_view sealed) const {
    const std::string id = KeyIdOf(sealed);
    auto it = keys_.find(id);
    if (it == keys_.end()) {
        return Error::Internal("a secret is sealed under master key " + id + ", which this server does not have");
    }
    std::string raw;
    if (!Base64Decode(sealed.substr(id.size() + 1), raw)) return Error::Internal("a sealed secret is malformed");
    std::string plain;
    if (!AesGcmDecrypt(it->second, raw, plain)) return Error::Internal("a sealed secret failed authentication");
    return plain;
}

std::string SecretBox::DeriveKey(std::string_view purpose) const {
    return HmacSha256Hex(keys_.at(current_id_), purpose);
}

std::string SecretBox::ParseKey(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    if (text.size() == 64) {
        std::string out;
        for (std::size_t i = 0; i < 64; i += 2) {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int hi = hex(text[i]), lo = hex(text[i + 1]);
            if (hi < 0 || lo < 0) {
                out.clear();
                break;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
        }
        if (out.size() == 32) return out;
    }
    std::string decoded;
    if (Base64Decode(text, decoded) && decoded.size() == 32) return decoded;
    return {};
}

}  // namespace weft
