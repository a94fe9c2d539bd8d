#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "engine/definition.h"
#include "engine/effects.h"
#include "engine/run_state.h"

namespace weft::engine {

// Per-run limits (AUTOMATIONS.md section 5). Exceeding one fails the run with a message naming it.
struct EngineLimits {
    std::int64_t max_executed_blocks = 100000;
    std::int64_t max_data_bytes = 64LL * 1024 * 1024;  // variables + run output
    int max_loop_depth = 16;
    int max_call_depth = 8;
    std::int64_t max_log_bytes = 10LL * 1024 * 1024;
    std::size_t max_log_value_bytes = 64 * 1024;
    Micros max_wall_time = 4LL * 3600 * 1000 * 1000;
    std::int64_t max_sleep_seconds = 3600;
    // Nesting of values kept in variables and the output: a loop wrapping a variable in itself
    // would otherwise grow values too deep to walk or free without exhausting the stack.
    std::size_t max_value_depth = 128;
};

// How a run starts: which flow, its inputs (already merged with persisted inputs and checked with
// ResolveRunInputs), the trigger payload for `$.start`, and `$.run` (`guid`, `context`, `account`;
// `started_at` is filled in when missing).
struct RunStart {
    std::string flow = "start";
    json::object inputs;
    json::value start = json::object{};
    json::object run;
    int call_depth = 0;  // 0 for a top-level run; CallAutomationEffect::depth for a called one
};

// What Step produced: an effect to perform, or nothing when the run has ended (state.status).
struct StepResult {
    std::optional<Effect> effect;
    bool done() const { return !effect.has_value(); }
};

// Runs automations as resumable state machines. Stateless apart from its configuration, so one
// Engine serves any number of runs on any thread.
//
//   RunState state = engine.StartRun(*definition, start);
//   for (auto step = engine.Step(*definition, state); !step.done(); step = engine.Step(*definition, state)) {
//       state.Resume(co_await host.Perform(*step.effect));   // HTTP, timer, sub-run: no thread held
//   }
//   // state.status, state.output, state.error, state.TakeLogs()
class Engine {
  public:
    Engine(const Clock& clock, std::function<std::string()> new_uuid, EngineLimits limits = {})
        : clock_(clock), new_uuid_(std::move(new_uuid)), limits_(limits) {}

    RunState StartRun(const Definition& def, RunStart start) const;

    // Executes blocks until the run ends or needs an effect. Call again after RunState::Resume.
    // Calling it with an effect still unanswered returns the same effect again.
    StepResult Step(const Definition& def, RunState& state) const;

    const EngineLimits& limits() const { return limits_; }
    const Clock& clock() const { return clock_; }
    const std::function<std::string()>& new_uuid() const { return new_uuid_; }

  private:
    const Clock& clock_;
    std::function<std::string()> new_uuid_;
    EngineLimits limits_;
};

}  // namespace weft::engine
