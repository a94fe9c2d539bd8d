#pragma once

#include <cstdint>
#include <string>

#include "api/api.h"
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
json::object PageEnvelope(const http::Request& req, const ApiDeps& deps, const Paging& paging, std::int64_t total,
                          json::array data);

// "http://host" or the configured public URL, without a trailing slash.
std::string BaseUrl(const http::Request& req, const ApiDeps& deps);

}  // namespace weft::api
