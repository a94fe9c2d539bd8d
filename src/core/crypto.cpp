#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace weft {

std::string RandomBytes(size_t n) {
    std::string out(n, '\0');
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return out;
}

std::string RandomToken(size_t length) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    constexpr unsigned kSize = sizeof(kAlphabet) - 1;  // 62
    constexpr unsigned kLimit = 256 - (256 % kSize);   // reject bytes >= 248 to avoid modulo bias
    std::string out;
    out.reserve(length);
    while (out.size() < length) {
        for (unsigned char c : RandomBytes(length * 2)) {
            if (c >= kLimit) continue;
            out.push_back(kAlphabet[c % kSize]);
            if (out.size() == length) break;
        }
    }
    return out;
}

std::array<std::uint8_t, 32> Sha256(std::string_view data) {
    std::array<std::uint8_t, 32> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    return digest;
}

std::string HexEncode(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
    return out;
}

std::string Sha256Hex(std::string_view data) {
    const auto d = Sha256(data);
    return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &len);
    return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace weft

namespace weft {

std::string Base64Encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

bool Base64Decode(std::string_view text, std::string& out) {
    std::string padded(text);
    while (padded.size() % 4 != 0) padded.push_back('=');
    out.assign(3 * padded.size() / 4, '\0');
    const int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
    if (n < 0) return false;
    size_t len = static_cast<size_t>(n);
    // EVP_DecodeBlock counts padding as zero bytes.
    for (size_t i = padded.size(); i > 0 && padded[i - 1] == '=' && len > 0; --i) --len;
    out.resize(len);
    return true;
}

namespace {
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct CipherCtx {
    CipherCtx() : ctx(EVP_CIPHER_CTX_new()) {
        if (ctx == nullptr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    }
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
    EVP_CIPHER_CTX* ctx;
};
}  // namespace

std::string AesGcmEncrypt(std::string_view key, std::string_view plaintext) {
    if (key.size() != 32) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
    const std::string nonce = RandomBytes(kNonceBytes);
    CipherCtx c;
    std::string out = nonce;
    out.resize(kNonceBytes + plaintext.size() + kTagBytes);
    auto* dst = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
    int len = 0;
    int total = 0;
    if (EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                           reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
        EVP_EncryptUpdate(c.ctx, dst, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1) {
        throw std::runtime_error("AES-GCM encryption failed");
    }
    total = len;
    if (EVP_EncryptFinal_ex(c.ctx, dst + total, &len) != 1) throw std::runtime_error("AES-GCM encryption failed");
    total += len;
    if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + total) != 1) {
        throw std::runtime_error("AES-GCM tag failed");
    }
    return out;
}

bool AesGcmDecrypt(std::string_view key, std::string_view sealed, std::string& plaintext) {
    if (key.size() != 32 || sealed.size() < static_cast<size_t>(kNonceBytes + kTagBytes)) return false;
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    const auto* data = nonce + kNonceBytes;
    const int data_len = static_cast<int>(sealed.size()) - kNonceBytes - kTagBytes;
    std::string tag(sealed.substr(sealed.size() - kTagBytes));
    CipherCtx c;
    plaintext.assign(static_cast<size_t>(data_len), '\0');
    int len = 0;
    if (EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                           nonce) != 1 ||
        EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plaintext.data()), &len, data, data_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
        plaintext.clear();
        return false;
    }
    int fin = 0;
    if (EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plaintext.data()) + len, &fin) != 1) {
        plaintext.clear();
        return false;
    }
    return true;
}

}  // namespace weft
