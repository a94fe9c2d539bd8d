#include "core/crypto.h"
#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

Result<json::value> Base64Encode(Args a, const FormulaContext&) {
    const std::string in = ArgText(a, 0);
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += kBase64[(n >> 6) & 63];
        out += kBase64[n & 63];
    }
    if (i < in.size()) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
        out += '=';
    }
    return json::value(out);
}

// Accepts the standard and the URL-safe alphabets, with or without padding.
Result<json::value> Base64Decode(Args a, const FormulaContext&) {
    const std::string in = ArgText(a, 0);
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    std::size_t end = in.size();
    while (end > 0 && in[end - 1] == '=') --end;
    for (std::size_t i = 0; i < end; ++i) {
        const char c = in[i];
        if (c == '\n' || c == '\r') continue;
        const int v = Base64Index(c);
        if (v < 0) return FormulaError("base64_decode", "the text is not valid base64");
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return json::value(out);
}

Result<json::value> UrlEncode(Args a, const FormulaContext&) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string in = ArgText(a, 0);
    std::string out;
    for (unsigned char c : in) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return json::value(out);
}

Result<json::value> Sha256(Args a, const FormulaContext&) { return json::value(Sha256Hex(ArgText(a, 0))); }

Result<json::value> HmacSha256(Args a, const FormulaContext&) {
    return json::value(HmacSha256Hex(ArgText(a, 1), ArgText(a, 0)));
}

Result<json::value> Uuid(Args, const FormulaContext& ctx) {
    if (!ctx.new_uuid) return FormulaError("uuid", "no uuid source is configured");
    return json::value(ctx.new_uuid());
}

const FormulaSpec kEncoding[] = {
    {"base64_encode", "encoding", 1, 1, Base64Encode}, {"base64_decode", "encoding", 1, 1, Base64Decode},
    {"url_encode", "encoding", 1, 1, UrlEncode},       {"sha256", "encoding", 1, 1, Sha256},
    {"hmac_sha256", "encoding", 2, 2, HmacSha256},     {"uuid", "encoding", 0, 0, Uuid},
};

}  // namespace

std::span<const FormulaSpec> EncodingFormulas() { return kEncoding; }

}  // namespace weft::engine
