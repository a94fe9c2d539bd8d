#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"

namespace weft::engine {

// Effects: what a run needs from the outside world. The engine never performs I/O; Engine::Step
// returns an effect, the host (jobs layer) performs it without blocking a thread, then hands the
// outcome back with RunState::Resume and calls Step again. Effects and their results are plain
// values, serialisable with the run state.

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Perform one HTTP request. The host applies the datasource's authentication (when `datasource` is
// set), enforces the outbound address guard and the timeout, and follows no more than its own
// redirect policy.
struct HttpRequestEffect {
    std::string block_id;
    int attempt = 1;
    std::string method;
    std::string url;  // query parameters already appended
    HeaderList headers;
    std::string body;
    std::string datasource;  // datasource guid, or empty
    std::int64_t timeout_ms = 60000;
};

// Call a connector endpoint; the host resolves the connector, its base URL and authentication.
struct ConnectorEffect {
    std::string block_id;
    int attempt = 1;
    std::string connector;
    std::string endpoint;
    std::string datasource;
    json::object params;
    std::int64_t timeout_ms = 60000;
};

// Wake the run at `until` (a `sleep` block, or the delay before a retry).
struct SleepEffect {
    std::string block_id;
    Micros until = 0;
    bool retry_delay = false;
};

// Start a run of another automation of the same account (`automation` is its name or guid) with
// `depth` as its call depth. Sync: resume with the called run's output once it ends; async: resume
// at once with the queued run object.
struct CallAutomationEffect {
    std::string block_id;
    std::string automation;
    json::object inputs;
    bool async = false;
    int depth = 1;
};

using Effect = std::variant<HttpRequestEffect, ConnectorEffect, SleepEffect, CallAutomationEffect>;

// Outcomes of effects.

enum class TransportError {
    kNone,
    kNetwork,  // connection refused/reset, DNS failure: transient
    kTimeout,  // transient
    kBlocked,  // refused by the outbound address guard or a bad URL: not retried
};

struct HttpResponse {
    int status = 0;
    HeaderList headers;
    std::string body;
};

// Outcome of an HttpRequestEffect or ConnectorEffect. A connector may answer with an already
// mapped value instead of a raw response. With a response, a non-empty `error_message` is the message a
// failed block shows (a connector's mapped error) instead of the bare status.
struct HttpResult {
    std::optional<HttpResponse> response;
    TransportError error = TransportError::kNone;
    std::string error_message;
    std::optional<json::value> mapped;
    // The request as the block log shows it (connectors: credentials replaced by "********"); merged into the
    // block's logged input as `request`.
    std::optional<json::value> request;
};

struct SleepDone {};

// Outcome of a CallAutomationEffect: the called run's output (sync) or run object (async), or a
// failure message (the called run failed or was stopped, the automation does not exist, ...).
struct CallResult {
    bool ok = true;
    json::value value;
    std::string error_message;
};

using EffectResult = std::variant<HttpResult, SleepDone, CallResult>;

json::value EffectToJson(const Effect& e);
Result<Effect> EffectFromJson(const json::value& v);
json::value EffectResultToJson(const EffectResult& r);
Result<EffectResult> EffectResultFromJson(const json::value& v);

}  // namespace weft::engine
