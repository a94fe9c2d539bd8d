#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "core/json.h"
#include "core/result.h"
#include "domain/entities.h"
#include "http/message.h"

namespace weft::api {

struct Paging {
    std::int64_t page = 1;
    std::int64_t per_page = 100;
    PageRequest AsRequest() const { return {(page - 1) * per_page, per_page}; }
};

// `page` (>= 1, default 1) and `per_page` (1..100, default 100); anything else is validation_failed.
Result<Paging> ParsePaging(const http::Request& req);

// The envelope of section 3: data, links (absolute, keeping the caller's other query parameters), meta.
// `base_url` is BaseUrl(req, public_url).
json::object PageEnvelope(const http::Request& req, const std::string& base_url, const Paging& paging,
                          std::int64_t total, json::array data);

template <typename T>
struct IsResultType : std::false_type {};
template <typename T>
struct IsResultType<Result<T>> : std::true_type {};

// The 200 answer of a list call: each item of `page` through `view` (which gives a json value, or a Result of one
// whose error is the call's answer instead), in the envelope of PageEnvelope.
http::Response PageResponse(const http::Request& req, const std::string& base_url, const Paging& paging,
                            std::int64_t total, json::array data);

template <typename T, typename View>
Result<http::Response> PagedResponse(const http::Request& req, const std::string& base_url, const Paging& paging,
                                     const Page<T>& page, View view) {
    json::array data;
    data.reserve(page.items.size());
    for (const auto& item : page.items) {
        auto v = view(item);
        if constexpr (IsResultType<decltype(v)>::value) {
            if (!v) return std::move(v).error();
            data.emplace_back(std::move(*v));
        } else {
            data.emplace_back(std::move(v));
        }
    }
    return PageResponse(req, base_url, paging, page.total, std::move(data));
}

// The configured public URL, or "http://<Host>" when none is configured; no trailing slash.
std::string BaseUrl(const http::Request& req, const std::string& public_url);

}  // namespace weft::api
