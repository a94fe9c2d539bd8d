#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "engine/effects.h"

namespace weft::engine {

enum class RunStatus { kRunning, kFinished, kFinishedWithWarnings, kFailed, kStopped };

// The wire name: "running", "finished", "finished with warnings", "failed", "stopped".
const char* RunStatusName(RunStatus status);

// One entry of a run's block log (API.md: runs/{run}/logs).
struct LogEntry {
    std::string block_id;  // empty for the final "log truncated" entry
    std::string type;
    Micros started_at = 0;
    std::int64_t duration_ms = 0;
    std::string status;  // "ok", "failed", "warning", "ignored", "retrying", "truncated"
    json::value input;   // the block's fields after templating (large values truncated)
    json::value output;
    std::string error;
    int attempt = 1;
    std::optional<std::int64_t> iteration;  // index in the innermost loop

    json::value ToJson() const;
};

// Where execution is: a sequence of blocks being walked. The root frame walks the flow; the others
// walk a condition's branch or a loop's body (owner = that block's id).
struct Frame {
    enum class Kind { kFlow, kThen, kElse, kLoop };
    Kind kind = Kind::kFlow;
    std::string owner;
    std::size_t next = 0;  // index of the next block to run in the sequence
    // Loops only: the items being iterated (object entries become {key, value}) and the position.
    json::array items;
    std::int64_t index = 0;
};

// A block waiting on an effect (or on the delay before retrying it).
struct PendingBlock {
    std::string block_id;
    int attempt = 1;
    Micros started_at = 0;
    json::value input;
    Effect effect;
    bool waiting_retry = false;
    std::optional<EffectResult> result;
    Micros retry_until = 0;  // while waiting_retry: when to re-issue the effect
};

struct RunError {
    std::string message;
    std::string block_id;
};

// Everything about one run in progress, as a value: copyable, serialisable to JSON and back, so a
// host can persist it between steps and resume from a block boundary (or a pending effect) in
// another process. Engine::Step is the only code that advances it.
struct RunState {
    std::string flow = "start";
    RunStatus status = RunStatus::kRunning;
    Micros started_at = 0;
    int call_depth = 0;
    bool stop_requested = false;
    bool warnings = false;
    std::optional<RunError> error;

    json::value inputs = json::object{};
    json::value start = json::object{};
    json::value run = json::object{};
    json::value variables = json::object{};
    json::value outputs = json::object{};  // block id -> its output

    json::value output = json::object{};
    bool output_appended = false;
    std::optional<int> response_status;
    json::object response_headers;

    std::vector<Frame> frames;
    std::optional<PendingBlock> pending;

    std::int64_t executed_blocks = 0;
    std::int64_t data_bytes = 0;
    json::object variable_bytes;
    std::int64_t output_bytes = 2;
    std::int64_t log_bytes = 0;
    bool log_truncated = false;
    std::vector<LogEntry> logs;  // produced since the host last took them

    bool done() const { return status != RunStatus::kRunning; }

    // Hands back the outcome of the effect the last Step returned.
    void Resume(EffectResult result);
    // Asks the run to stop at the next block boundary (at once when waiting on an effect).
    void RequestStop() { stop_requested = true; }
    // The log entries produced since the last call.
    std::vector<LogEntry> TakeLogs();

    // Values inside nest up to EngineLimits::max_value_depth (plus a few levels of state), deeper
    // than the 64 levels ParseJson allows by default: re-read persisted text with a higher limit
    // (ParseJson(text, 256)).
    json::value ToJson() const;
    static Result<RunState> FromJson(const json::value& v);
};

}  // namespace weft::engine
