#include "engine/value.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace weft::engine {

namespace {

std::string FormatDouble(double d) {
    if (std::isnan(d) || std::isinf(d)) return "null";
    if (std::trunc(d) == d && std::fabs(d) < 1e15) {
        return std::to_string(static_cast<std::int64_t>(d));
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

std::optional<double> ParseNumber(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (s.empty()) return std::nullopt;
    if (s.front() == '+') s.remove_prefix(1);
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    if (std::isnan(d) || std::isinf(d)) return std::nullopt;
    return d;
}

std::size_t DecimalDigits(std::uint64_t n) {
    std::size_t digits = 1;
    while (n >= 10) {
        n /= 10;
        ++digits;
    }
    return digits;
}

std::size_t StringJsonSize(std::string_view s) {
    std::size_t n = 2;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
            n += 2;
        } else if (c < 0x20) {
            n += 6;
        } else {
            n += 1;
        }
    }
    return n;
}

}  // namespace

std::string ToText(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "";
        case json::kind::bool_:
            return v.get_bool() ? "true" : "false";
        case json::kind::int64:
            return std::to_string(v.get_int64());
        case json::kind::uint64:
            return std::to_string(v.get_uint64());
        case json::kind::double_:
            return FormatDouble(v.get_double());
        case json::kind::string:
            return std::string(v.get_string());
        default:
            return json::serialize(v);
    }
}

std::optional<double> ToNumber(const json::value& v) {
    switch (v.kind()) {
        case json::kind::int64:
            return static_cast<double>(v.get_int64());
        case json::kind::uint64:
            return static_cast<double>(v.get_uint64());
        case json::kind::double_:
            return v.get_double();
        case json::kind::bool_:
            return v.get_bool() ? 1.0 : 0.0;
        case json::kind::string:
            return ParseNumber(v.get_string());
        default:
            return std::nullopt;
    }
}

std::optional<std::int64_t> ToInteger(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(v.get_uint64());
    }
    auto d = ToNumber(v);
    if (!d || std::trunc(*d) != *d || std::fabs(*d) > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(*d);
}

json::value NumberValue(double d) {
    if (std::trunc(d) == d && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
    return d;
}

bool IsEmpty(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return true;
        case json::kind::string:
            return v.get_string().empty();
        case json::kind::array:
            return v.get_array().empty();
        case json::kind::object:
            return v.get_object().empty();
        default:
            return false;
    }
}

bool IsTruthy(const json::value& v) {
    if (v.is_bool()) return v.get_bool();
    if (v.is_string()) return !v.get_string().empty() && v.get_string() != "false" && v.get_string() != "0";
    if (v.is_number()) return ToNumber(v).value_or(0) != 0;
    return !IsEmpty(v);
}

bool LooseEquals(const json::value& a, const json::value& b) {
    if (a.is_number() || b.is_number()) {
        if ((a.is_number() || a.is_string()) && (b.is_number() || b.is_string())) {
            auto x = ToNumber(a);
            auto y = ToNumber(b);
            if (x && y) return *x == *y;
        }
        return false;
    }
    if (a.is_bool() && b.is_string()) return ToText(a) == b.get_string();
    if (a.is_string() && b.is_bool()) return ToText(b) == a.get_string();
    return a == b;
}

int Compare(const json::value& a, const json::value& b) {
    auto x = ToNumber(a);
    auto y = ToNumber(b);
    if (x && y && !a.is_bool() && !b.is_bool()) return *x < *y ? -1 : (*x > *y ? 1 : 0);
    const int c = ToText(a).compare(ToText(b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::size_t JsonSize(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return 4;
        case json::kind::bool_:
            return v.get_bool() ? 4 : 5;
        case json::kind::int64: {
            const std::int64_t n = v.get_int64();
            // The magnitude as unsigned, so INT64_MIN does not overflow.
            const std::uint64_t magnitude = n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
            return DecimalDigits(magnitude) + (n < 0 ? 1 : 0);
        }
        case json::kind::uint64:
            return DecimalDigits(v.get_uint64());
        case json::kind::double_:
            return ToText(v).size();
        case json::kind::string:
            return StringJsonSize(v.get_string());
        case json::kind::array: {
            std::size_t n = 2;
            const auto& arr = v.get_array();
            for (const auto& e : arr) n += JsonSize(e);
            if (!arr.empty()) n += arr.size() - 1;
            return n;
        }
        case json::kind::object: {
            std::size_t n = 2;
            const auto& obj = v.get_object();
            for (const auto& kv : obj) n += StringJsonSize(kv.key()) + 1 + JsonSize(kv.value());
            if (!obj.empty()) n += obj.size() - 1;
            return n;
        }
    }
    return 0;
}

std::size_t JsonDepth(const json::value& v) {
    std::size_t deepest = 0;
    if (v.is_array()) {
        for (const auto& e : v.get_array()) deepest = std::max(deepest, JsonDepth(e));
        return deepest + 1;
    }
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) deepest = std::max(deepest, JsonDepth(kv.value()));
        return deepest + 1;
    }
    return 0;
}

namespace {

// The start of `v`'s JSON form (of a string: its text) and a note of its full `size`.
json::value Truncated(const json::value& v, std::size_t size, std::size_t limit) {
    std::string text = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
    std::size_t cut = std::min(limit, text.size());
    // Never cut a UTF-8 sequence in half.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "... [truncated: value was " + std::to_string(size) + " bytes]";
    return json::value(text);
}

}  // namespace

json::value TruncateForLog(const json::value& v, std::size_t limit) {
    const std::size_t size = JsonSize(v);
    if (size <= limit) return v;
    return Truncated(v, size, limit);
}

json::value TruncateForLog(const json::value& v, std::size_t limit, std::size_t& logged_size) {
    logged_size = JsonSize(v);
    if (logged_size <= limit) return v;
    json::value truncated = Truncated(v, logged_size, limit);
    logged_size = JsonSize(truncated);
    return truncated;
}

json::value TruncateForLog(json::value&& v, std::size_t limit, std::size_t& logged_size) {
    logged_size = JsonSize(v);
    if (logged_size <= limit) return std::move(v);
    json::value truncated = Truncated(v, logged_size, limit);
    logged_size = JsonSize(truncated);
    return truncated;
}

const char* KindName(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "boolean";
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            return "number";
        case json::kind::string:
            return "string";
        case json::kind::array:
            return "list";
        case json::kind::object:
            return "object";
    }
    return "value";
}

std::string KindWithArticle(const json::value& v) {
    const std::string kind = KindName(v);
    return (kind == "object" ? "an " : "a ") + kind;
}

}  // namespace weft::engine
