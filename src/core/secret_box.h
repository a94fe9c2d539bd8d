#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace weft {

// Seals secrets (datasource secret params, OAuth tokens) with AES-256-GCM under the master key. A sealed value
// is "<key id>:<base64 of nonce|ciphertext|tag>"; the key id (first 16 hex digits of the key's SHA-256) says
// which key opens it, so the master key can be rotated: old keys stay registered until everything has been
// re-sealed under the current one (`weft secrets rotate`).
class SecretBox {
  public:
    // `key` is 32 raw bytes. Throws std::invalid_argument otherwise.
    explicit SecretBox(std::string key);

    // Registers an older key that can still open values (rotation).
    void AddOldKey(std::string key);

    const std::string& current_key_id() const { return current_id_; }
    // Whether values sealed under this key id can be opened (the current key or a registered old one).
    bool HasKey(std::string_view key_id) const { return keys_.find(std::string(key_id)) != keys_.end(); }
    std::string Seal(std::string_view plaintext) const;
    // Fails (internal error, never the plaintext or key in the message) for an unknown key id or altered data.
    Result<std::string> Open(std::string_view sealed) const;
    // A key derived from the master key for another purpose (e.g. signing datasource links).
    std::string DeriveKey(std::string_view purpose) const;

    static std::string KeyId(std::string_view key);
    static std::string KeyIdOf(std::string_view sealed);

    // A master key as given by an operator: 64 hex digits, or base64 of 32 bytes. Empty on anything else.
    static std::string ParseKey(std::string_view text);

  private:
    std::string current_id_;
    std::map<std::string, std::string> keys_;
};

}  // namespace weft
