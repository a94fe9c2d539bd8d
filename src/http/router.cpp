#include "http/router.h"

#include <algorithm>

namespace weft::http {

namespace {

std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> out;
    size_t start = 0;
    if (!path.empty() && path.front() == '/') start = 1;
    while (start <= path.size()) {
        const size_t slash = path.find('/', start);
        const size_t end = slash == std::string_view::npos ? path.size() : slash;
        out.push_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return out;
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool MatchSegments(const Route& r, const std::vector<std::string_view>& parts, PathParams& params) {
    if (r.segments.size() != parts.size()) return false;
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string& seg = r.segments[i];
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            if (parts[i].empty()) return false;
            params.emplace(seg.substr(1, seg.size() - 2), PercentDecode(parts[i]));
        } else if (seg != PercentDecode(parts[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string PercentDecode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = HexValue(s[i + 1]);
            const int lo = HexValue(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

void Router::Add(std::string method, std::string pattern, Execution execution, Handler handler) {
    Route r{std::move(method), std::move(pattern), execution, std::move(handler), {}};
    for (auto part : Split(r.pattern)) r.segments.emplace_back(part);
    routes_.push_back(std::move(r));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
    RouteMatch m;
    const auto parts = Split(path);
    for (const auto& r : routes_) {
        PathParams params;
        if (!MatchSegments(r, parts, params)) continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET")) {
            if (!m.route) {
                m.route = &r;
                m.params = std::move(params);
            }
        } else if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) {
            m.allowed.push_back(r.method);
        }
    }
    return m;
}

}  // namespace weft::http
