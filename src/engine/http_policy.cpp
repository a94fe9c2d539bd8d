#include "engine/http_policy.h"

#include <date/date.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "engine/value.h"

namespace weft::engine {

namespace {

constexpr Micros kMaxRetryDelay = 3600LL * 1000 * 1000;

std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string UrlEncode(std::string_view in) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : in) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (Lower(k) == name) return &v;
    }
    return nullptr;
}

}  // namespace

bool IsHttpUrl(std::string_view url) {
    const std::string start = Lower(std::string(url.substr(0, 8)));
    return start.starts_with("http://") || start.starts_with("https://");
}

std::string AppendQuery(const std::string& url, const json::value& query) {
    if (!query.is_object() || query.get_object().empty()) return url;
    std::string out = url;
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    auto add = [&](std::string_view key, const json::value& v) {
        if (v.is_null()) return;
        out += sep;
        sep = '&';
        out += UrlEncode(key);
        out += '=';
        out += UrlEncode(ToText(v));
    };
    for (const auto& kv : query.get_object()) {
        if (kv.value().is_array()) {
            for (const auto& e : kv.value().get_array()) add(kv.key(), e);
        } else {
            add(kv.key(), kv.value());
        }
    }
    return out;
}

HeaderList HeadersFromValue(const json::value& headers) {
    HeaderList out;
    if (!headers.is_object()) return out;
    for (const auto& kv : headers.get_object()) {
        if (!kv.value().is_null()) out.emplace_back(std::string(kv.key()), ToText(kv.value()));
    }
    return out;
}

std::string BodyFromValue(const json::value& body, HeaderList& headers) {
    if (body.is_null()) return {};
    if (body.is_object() || body.is_array()) {
        if (FindHeader(headers, "content-type") == nullptr) headers.emplace_back("Content-Type", "application/json");
        return json::serialize(body);
    }
    return ToText(body);
}

Result<json::value> ResponseValue(const HttpResponse& response, ResponseMode mode) {
    json::object headers;
    for (const auto& [k, v] : response.headers) {
        const std::string name = Lower(k);
        if (auto* existing = headers.if_contains(name)) {
            *existing = json::value(std::string(existing->get_string()) + ", " + v);
        } else {
            headers[name] = v;
        }
    }
    json::value body;
    if (mode == ResponseMode::kText) {
        body = json::value(response.body);
    } else if (response.body.empty()) {
        body = mode == ResponseMode::kJson ? json::value(nullptr) : json::value("");
    } else {
        const std::string* type = FindHeader(response.headers, "content-type");
        const bool looks_json = type != nullptr && Lower(*type).find("json") != std::string::npos;
        if (mode == ResponseMode::kJson || looks_json) {
            auto parsed = ParseJson(response.body);
            if (parsed) {
                body = std::move(parsed.value());
            } else if (mode == ResponseMode::kJson) {
                return Error::Invalid("the response body is not valid JSON");
            } else {
                body = json::value(response.body);
            }
        } else {
            body = json::value(response.body);
        }
    }
    return json::value(
        json::object{{"status", response.status}, {"headers", std::move(headers)}, {"body", std::move(body)}});
}

bool IsAcceptedStatus(int status, const std::vector<int>& accept_status) {
    if (status >= 200 && status < 300) return true;
    return std::find(accept_status.begin(), accept_status.end(), status) != accept_status.end();
}

bool IsTransient(const HttpResult& result, const std::vector<int>& accept_status) {
    if (result.error == TransportError::kNetwork || result.error == TransportError::kTimeout) return true;
    if (result.error == TransportError::kBlocked || !result.response) return false;
    const int status = result.response->status;
    if (IsAcceptedStatus(status, accept_status)) return false;
    return status == 429 || status >= 500;
}

std::optional<Micros> ParseRetryAfter(const HttpResult& result, Micros now) {
    if (!result.response) return std::nullopt;
    const std::string* value = FindHeader(result.response->headers, "retry-after");
    if (value == nullptr || value->empty()) return std::nullopt;
    std::int64_t seconds = 0;
    auto r = std::from_chars(value->data(), value->data() + value->size(), seconds);
    if (r.ec == std::errc() && r.ptr == value->data() + value->size()) {
        return seconds < 0 ? 0 : std::min<Micros>(seconds * 1000000, kMaxRetryDelay);
    }
    std::istringstream in(*value);
    date::sys_seconds when;
    in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", when);
    if (in.fail()) return std::nullopt;
    const Micros at = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
    return std::clamp<Micros>(at - now, 0, kMaxRetryDelay);
}

std::optional<Micros> RetryDelay(const RetryPolicy& policy, int attempt, const HttpResult& result, Micros now) {
    if (attempt >= policy.max_attempts) return std::nullopt;
    Micros delay_ms = policy.delay_ms;
    if (policy.backoff == Backoff::kExponential) {
        for (int i = 1; i < attempt && delay_ms < policy.max_delay_ms; ++i) delay_ms *= 2;
        delay_ms = std::min(delay_ms, policy.max_delay_ms);
    }
    Micros delay = delay_ms * 1000;
    if (auto after = ParseRetryAfter(result, now)) delay = std::max(delay, *after);
    return std::min(delay, kMaxRetryDelay);
}

}  // namespace weft::engine
