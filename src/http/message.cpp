#include "http/message.h"

#include <strings.h>

namespace weft::http {

const std::string* FindHeader(const Headers& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return &v;
    }
    return nullptr;
}

const std::string* Request::Query(std::string_view name) const {
    for (const auto& [k, v] : query) {
        if (k == name) return &v;
    }
    return nullptr;
}

void Response::SetHeader(std::string name, std::string value) {
    for (auto& [k, v] : headers) {
        if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) {
            v = std::move(value);
            return;
        }
    }
    headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace weft::http
