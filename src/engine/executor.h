#pragma once

#include <optional>
#include <string>

#include "engine/engine.h"
#include "engine/expr_eval.h"
#include "engine/formula.h"

namespace weft::engine {

// The value a variable of `type` starts with: "", 0, {}, [] (AUTOMATIONS.md section 1).
json::value EmptyValue(VariableType type);

// Internal to the engine: advances one RunState for one Step call. engine.cpp holds the control
// flow (frames, pending effects, limits, logging); engine_blocks.cpp executes each block type.
class Executor final : public Scope {
  public:
    Executor(const Engine& engine, const Definition& def, RunState& state);

    StepResult Run();
    const json::value* Root(std::string_view name) const override;

  private:
    // What executing a block led to.
    struct Outcome {
        enum class Kind { kDone, kFailed, kWarning, kEffect, kStop, kExitLoop, kLimit };
        Kind kind = Kind::kDone;
        json::value input;
        json::value output;
        std::string message;
        std::optional<Effect> effect;
    };

    static Outcome Done(json::value input, json::value output) {
        return {Outcome::Kind::kDone, std::move(input), std::move(output), {}, std::nullopt};
    }
    static Outcome Failed(json::value input, std::string message, json::value output = nullptr) {
        return {Outcome::Kind::kFailed, std::move(input), std::move(output), std::move(message), std::nullopt};
    }
    static Outcome Limit(json::value input, std::string message) {
        return {Outcome::Kind::kLimit, std::move(input), nullptr, std::move(message), std::nullopt};
    }

    // engine.cpp
    const BlockList* Sequence(const Frame& frame) const;
    void EndOfSequence();
    void ExitLoop();
    void Finish();
    void FailRun(std::string message, std::string block_id);
    std::optional<std::int64_t> Iteration() const;
    // Appends a block's log entry; `input` is moved into it (callers pass what they no longer need).
    void Log(const Block& b, Micros started, const char* status, json::value input, const json::value& output,
             std::string error, int attempt, std::optional<std::int64_t> iteration);
    // Applies an outcome; returns an effect to hand to the host, if any.
    std::optional<Effect> Apply(const Block& b, Outcome outcome, Micros started, int attempt,
                                std::optional<std::int64_t> iteration);
    std::optional<Effect> ResumePending();
    Outcome HttpOutcome(const Block& b, const json::value& input, HttpResult result);

    // engine_blocks.cpp
    Outcome Execute(const Block& b);
    Outcome ExecuteOutput(const Block& b);
    Outcome ExecuteVariable(const Block& b);
    Outcome ExecuteCondition(const Block& b);
    Outcome ExecuteLoop(const Block& b);
    Outcome ExecuteHttp(const Block& b);
    Outcome ExecuteConnector(const Block& b);
    Outcome ExecuteCall(const Block& b);
    Outcome ExecuteSleep(const Block& b);
    Outcome ExecuteError(const Block& b);
    Result<json::value> Eval(const ValueTemplate& t, std::string_view field) const;
    // A message naming the limit when it is exceeded. They return no Outcome so that the block's input is
    // moved into one only when a limit is hit, never copied on the way.
    std::optional<std::string> DataLimitExceeded() const;
    std::optional<std::string> DepthLimitExceeded(const json::value& value) const;

    const Engine& engine_;
    const Definition& def_;
    RunState& state_;
    FormulaContext formulas_;
};

}  // namespace weft::engine
