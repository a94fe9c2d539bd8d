#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace weft::http {

// How a handler runs: kInline on the I/O thread (cheap, never blocks); kRead on the small read pool (database
// reads only: one thread per core, so reads do not pay for oversubscription); kBlocking on the blocking pool
// (writes: many threads, so that concurrent writers share group commits); kAsync on the I/O thread, answering
// later from any thread (a handler that never waits: it hands what would block to the blocking pool itself).
enum class Execution { kInline, kRead, kBlocking, kAsync };

using Handler = std::function<void(Request&, const PathParams&, Respond)>;

struct Route {
    std::string method;
    std::string pattern;  // "/v1/accounts/{account}/users/{user}"
    Execution execution = Execution::kBlocking;
    Handler handler;
    std::vector<std::string> segments;  // pattern split on '/'
};

struct RouteMatch {
    const Route* route = nullptr;  // set when path and method matched
    PathParams params;
    std::vector<std::string> allowed;  // methods the path accepts, when the path matched but the method did not
};

// Decodes %XX escapes; a malformed escape is kept as it is.
std::string PercentDecode(std::string_view s);

// The route table: exact method + segment patterns; `{name}` captures one non-empty segment.
class Router {
  public:
    void Add(std::string method, std::string pattern, Execution execution, Handler handler);
    // `path` is the raw (still percent-encoded) path: segments are split first, then decoded.
    RouteMatch Match(std::string_view method, std::string_view path) const;
    const std::vector<Route>& routes() const { return routes_; }

  private:
    std::vector<Route> routes_;
};

}  // namespace weft::http
