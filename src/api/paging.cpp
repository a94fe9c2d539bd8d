#include "api/paging.h"

#include <charconv>

#include "api/partner_call.h"

namespace weft::api {

namespace {

constexpr std::int64_t kMaxPerPage = 100;
constexpr std::int64_t kMaxPage = 1'000'000'000;

std::optional<std::int64_t> ParseIntInRange(const std::string& text, std::int64_t lo, std::int64_t hi) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || v < lo || v > hi) return std::nullopt;
    return v;
}

std::string Encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    return out;
}

}  // namespace

Result<Paging> ParsePaging(const http::Request& req) {
    Paging p;
    FieldErrors errors;
    if (const std::string* page = req.Query("page")) {
        if (auto v = ParseIntInRange(*page, 1, kMaxPage)) {
            p.page = *v;
        } else {
            errors["page"].push_back("must be an integer from 1 to " + std::to_string(kMaxPage));
        }
    }
    if (const std::string* per_page = req.Query("per_page")) {
        if (auto v = ParseIntInRange(*per_page, 1, kMaxPerPage)) {
            p.per_page = *v;
        } else {
            errors["per_page"].push_back("must be an integer from 1 to " + std::to_string(kMaxPerPage));
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return p;
}

std::string BaseUrl(const http::Request& req, const std::string& public_url) {
    if (!public_url.empty()) return public_url;
    return "http://" + (req.host.empty() ? std::string("localhost") : req.host);
}

json::object PageEnvelope(const http::Request& req, const std::string& base_url, const Paging& paging,
                          std::int64_t total, json::array data) {
    std::string base = base_url + req.path + "?";
    for (const auto& [k, v] : req.query) {
        if (k == "page") continue;
        base += Encode(k) + "=" + Encode(v) + "&";
    }
    auto url = [&](std::int64_t page) { return base + "page=" + std::to_string(page); };
    const std::int64_t last_page = std::max<std::int64_t>(1, (total + paging.per_page - 1) / paging.per_page);
    const std::int64_t offset = (paging.page - 1) * paging.per_page;
    const auto count = static_cast<std::int64_t>(data.size());

    json::object links;
    links["first"] = url(1);
    links["last"] = url(last_page);
    links["prev"] = paging.page > 1 ? json::value(url(std::min(paging.page - 1, last_page))) : json::value(nullptr);
    links["next"] = paging.page < last_page ? json::value(url(paging.page + 1)) : json::value(nullptr);

    json::object meta;
    meta["current_page"] = paging.page;
    meta["from"] = count > 0 ? json::value(offset + 1) : json::value(nullptr);
    meta["last_page"] = last_page;
    meta["path"] = url(paging.page);
    meta["per_page"] = paging.per_page;
    meta["to"] = count > 0 ? json::value(offset + count) : json::value(nullptr);
    meta["total"] = total;

    json::object out;
    out["data"] = std::move(data);
    out["links"] = std::move(links);
    out["meta"] = std::move(meta);
    return out;
}

http::Response PageResponse(const http::Request& req, const std::string& base_url, const Paging& paging,
                            std::int64_t total, json::array data) {
    return JsonBody(200, PageEnvelope(req, base_url, paging, total, std::move(data)));
}

}  // namespace weft::api
