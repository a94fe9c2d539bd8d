#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::http {

// Plain request and response values. The Beast types stay inside server.cpp: the api layer sees only these.

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup.
const std::string* FindHeader(const Headers& headers, std::string_view name);

struct Request {
    std::string method;                                      // "GET", "POST", ...
    std::string target;                                      // as received: path and query
    std::string path;                                        // percent-decoded path
    std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
    Headers headers;
    std::string body;
    std::string request_id;
    std::string remote;
    std::string host;  // Host header (for absolute links)

    const std::string* Header(std::string_view name) const { return FindHeader(headers, name); }
    // First value of a query parameter.
    const std::string* Query(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    Headers headers;
    std::string body;
    bool close = false;  // ask the server to close the connection after this response

    void SetHeader(std::string name, std::string value);
};

// Path parameters captured by `{name}` segments of the route pattern, percent-decoded.
using PathParams = std::map<std::string, std::string, std::less<>>;

// Delivers a handler's response; may be called from any thread, exactly once.
using Respond = std::function<void(Response)>;

}  // namespace weft::http
