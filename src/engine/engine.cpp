#include "engine/engine.h"

#include "core/time_format.h"
#include "engine/executor.h"
#include "engine/http_policy.h"
#include "engine/value.h"

namespace weft::engine {

json::value EmptyValue(VariableType type) {
    switch (type) {
        case VariableType::kString:
            return json::value("");
        case VariableType::kNumber:
            return json::value(0);
        case VariableType::kObject:
            return json::object{};
        case VariableType::kList:
        case VariableType::kTable:
            return json::array{};
    }
    return nullptr;
}

namespace {

std::string FormatLimitBytes(std::int64_t bytes) {
    if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
    if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

RunState Engine::StartRun(const Definition& def, RunStart start) const {
    RunState s;
    s.flow = start.flow;
    s.started_at = clock_.Now();
    s.call_depth = start.call_depth;
    s.inputs = std::move(start.inputs);
    s.start = std::move(start.start);
    if (!start.run.contains("started_at")) start.run["started_at"] = FormatTimestamp(s.started_at);
    s.run = std::move(start.run);
    json::object vars;
    json::object sizes;
    std::int64_t total = 0;
    for (const auto& v : def.variables) {
        json::value empty = EmptyValue(v.type);
        const auto size = static_cast<std::int64_t>(JsonSize(empty));
        sizes[v.name] = size;
        total += size;
        vars[v.name] = std::move(empty);
    }
    s.variables = std::move(vars);
    s.variable_bytes = std::move(sizes);
    s.data_bytes = total + s.output_bytes;
    if (def.Flow(s.flow) != nullptr) s.frames.push_back(Frame{Frame::Kind::kFlow, "", 0, {}, 0});
    return s;
}

StepResult Engine::Step(const Definition& def, RunState& state) const { return Executor(*this, def, state).Run(); }

Executor::Executor(const Engine& engine, const Definition& def, RunState& state)
    : engine_(engine), def_(def), state_(state), formulas_{&engine.clock(), engine.new_uuid()} {}

const json::value* Executor::Root(std::string_view name) const {
    if (name == "inputs") return &state_.inputs;
    if (name == "variables") return &state_.variables;
    if (name == "start") return &state_.start;
    if (name == "run") return &state_.run;
    return state_.outputs.get_object().if_contains(name);
}

const BlockList* Executor::Sequence(const Frame& frame) const {
    if (frame.kind == Frame::Kind::kFlow) return def_.Flow(state_.flow);
    const Block* owner = def_.FindBlock(frame.owner);
    if (owner == nullptr) return nullptr;
    switch (frame.kind) {
        case Frame::Kind::kThen:
            return &owner->then_blocks;
        case Frame::Kind::kElse:
            return &owner->else_blocks;
        case Frame::Kind::kLoop:
            return &owner->body;
        case Frame::Kind::kFlow:
            break;
    }
    return nullptr;
}

void Executor::EndOfSequence() {
    Frame& f = state_.frames.back();
    if (f.kind == Frame::Kind::kLoop) {
        const auto count = static_cast<std::int64_t>(f.items.size());
        if (++f.index < count) {
            f.next = 0;
            state_.outputs.get_object()[f.owner] = json::object{
                {"item", f.items[static_cast<std::size_t>(f.index)]}, {"index", f.index}, {"count", count}};
            return;
        }
        state_.outputs.get_object()[f.owner] = json::object{{"count", count}};
    }
    state_.frames.pop_back();
}

void Executor::ExitLoop() {
    while (!state_.frames.empty()) {
        Frame f = std::move(state_.frames.back());
        state_.frames.pop_back();
        if (f.kind == Frame::Kind::kLoop) {
            state_.outputs.get_object()[f.owner] = json::object{{"count", f.index + 1}};
            return;
        }
    }
}

void Executor::Finish() {
    state_.status = state_.warnings ? RunStatus::kFinishedWithWarnings : RunStatus::kFinished;
    state_.frames.clear();
    state_.pending.reset();
}

void Executor::FailRun(std::string message, std::string block_id) {
    state_.status = RunStatus::kFailed;
    state_.error = RunError{std::move(message), std::move(block_id)};
    state_.frames.clear();
    state_.pending.reset();
}

std::optional<std::int64_t> Executor::Iteration() const {
    for (auto it = state_.frames.rbegin(); it != state_.frames.rend(); ++it) {
        if (it->kind == Frame::Kind::kLoop) return it->index;
    }
    return std::nullopt;
}

void Executor::Log(const Block& b, Micros started, const char* status, json::value input, const json::value& output,
                   std::string error, int attempt, std::optional<std::int64_t> iteration) {
    if (state_.log_truncated) return;
    const auto& limits = engine_.limits();
    const std::int64_t duration_ms = (engine_.clock().Now() - started) / 1000;
    std::size_t input_size = 0;
    std::size_t output_size = 0;
    json::value logged_input = TruncateForLog(std::move(input), limits.max_log_value_bytes, input_size);
    json::value logged_output = TruncateForLog(output, limits.max_log_value_bytes, output_size);
    const auto size = static_cast<std::int64_t>(input_size + output_size + error.size() + 200);
    if (state_.log_bytes + size > limits.max_log_bytes) {
        state_.log_truncated = true;
        LogEntry last;
        last.started_at = engine_.clock().Now();
        last.status = "truncated";
        last.error = "The log of this run was truncated: it reached the limit of " +
                     FormatLimitBytes(limits.max_log_bytes) + "; later blocks are not logged.";
        state_.logs.push_back(std::move(last));
        return;
    }
    state_.log_bytes += size;
    // Built in place: boost::json::value's move assignment costs several times its move construction.
    state_.logs.push_back(LogEntry{b.id, BlockTypeName(b.type), started, duration_ms, status, std::move(logged_input),
                                   std::move(logged_output), std::move(error), attempt, iteration});
}

std::optional<Effect> Executor::Apply(const Block& b, Outcome o, Micros started, int attempt,
                                      std::optional<std::int64_t> iteration) {
    using Kind = Outcome::Kind;
    switch (o.kind) {
        case Kind::kDone:
            Log(b, started, "ok", std::move(o.input), o.output, {}, attempt, iteration);
            if (!b.id.empty() && b.type != BlockType::kLoop) state_.outputs.get_object()[b.id] = std::move(o.output);
            return std::nullopt;
        case Kind::kEffect:
            state_.pending =
                PendingBlock{b.id, attempt, started, std::move(o.input), *o.effect, false, std::nullopt, 0};
            return o.effect;
        case Kind::kWarning:
            Log(b, started, "warning", std::move(o.input), o.output, o.message, attempt, iteration);
            state_.warnings = true;
            return std::nullopt;
        case Kind::kStop:
            Log(b, started, "ok", std::move(o.input), o.output, {}, attempt, iteration);
            Finish();
            return std::nullopt;
        case Kind::kExitLoop:
            Log(b, started, "ok", std::move(o.input), o.output, {}, attempt, iteration);
            ExitLoop();
            return std::nullopt;
        case Kind::kLimit:
            Log(b, started, "failed", std::move(o.input), o.output, o.message, attempt, iteration);
            FailRun(std::move(o.message), b.id);
            return std::nullopt;
        case Kind::kFailed:
            break;
    }
    switch (b.on_error) {
        case OnError::kStop:
            Log(b, started, "failed", std::move(o.input), o.output, o.message, attempt, iteration);
            FailRun(std::move(o.message), b.id);
            break;
        case OnError::kWarning:
            Log(b, started, "warning", std::move(o.input), o.output, o.message, attempt, iteration);
            state_.warnings = true;
            if (!b.id.empty()) state_.outputs.get_object()[b.id] = std::move(o.output);
            break;
        case OnError::kIgnore:
            Log(b, started, "ignored", std::move(o.input), o.output, o.message, attempt, iteration);
            if (!b.id.empty()) state_.outputs.get_object()[b.id] = std::move(o.output);
            break;
    }
    return std::nullopt;
}

Executor::Outcome Executor::HttpOutcome(const Block& b, const json::value& input, HttpResult r) {
    if (r.mapped) return Done(input, std::move(*r.mapped));
    if (r.error != TransportError::kNone || !r.response) {
        std::string what = r.error == TransportError::kTimeout   ? "the request timed out"
                           : r.error == TransportError::kBlocked ? "the request was refused"
                                                                 : "network error";
        if (!r.error_message.empty()) what += ": " + r.error_message;
        return Failed(input, what);
    }
    auto value = ResponseValue(*r.response, b.response);
    if (!value) return Failed(input, value.error().message);
    if (!IsAcceptedStatus(r.response->status, b.accept_status)) {
        return Failed(input, "the server answered HTTP " + std::to_string(r.response->status),
                      std::move(value.value()));
    }
    return Done(input, std::move(value.value()));
}

std::optional<Effect> Executor::ResumePending() {
    PendingBlock& p = *state_.pending;
    const Block* b = def_.FindBlock(p.block_id);
    if (b == nullptr) {
        FailRun("block '" + p.block_id + "' is not in the definition any more", p.block_id);
        return std::nullopt;
    }
    if (!p.result) {
        if (state_.stop_requested) {
            state_.status = RunStatus::kStopped;
            state_.pending.reset();
            state_.frames.clear();
            return std::nullopt;
        }
        if (p.waiting_retry) return Effect{SleepEffect{p.block_id, p.retry_until, true}};
        return p.effect;
    }
    EffectResult result = std::move(*p.result);
    p.result.reset();
    const auto iteration = Iteration();
    if (p.waiting_retry) {
        p.waiting_retry = false;
        ++p.attempt;
        if (auto* h = std::get_if<HttpRequestEffect>(&p.effect)) h->attempt = p.attempt;
        if (auto* c = std::get_if<ConnectorEffect>(&p.effect)) c->attempt = p.attempt;
        return p.effect;
    }
    Outcome outcome;
    const bool wants_http =
        std::holds_alternative<HttpRequestEffect>(p.effect) || std::holds_alternative<ConnectorEffect>(p.effect);
    const bool wants_sleep = std::holds_alternative<SleepEffect>(p.effect);
    if (wants_http != std::holds_alternative<HttpResult>(result) ||
        wants_sleep != std::holds_alternative<SleepDone>(result)) {
        outcome = Failed(p.input, "internal error: the effect was answered with a result of another kind");
    } else if (auto* http = std::get_if<HttpResult>(&result)) {
        const Micros now = engine_.clock().Now();
        if (IsTransient(*http, b->accept_status)) {
            if (auto delay = RetryDelay(b->retry, p.attempt, *http, now)) {
                Outcome failed = HttpOutcome(*b, p.input, *http);
                Log(*b, p.started_at, "retrying", p.input, failed.output, failed.message, p.attempt, iteration);
                p.waiting_retry = true;
                p.retry_until = now + *delay;
                return Effect{SleepEffect{b->id, p.retry_until, true}};
            }
        }
        outcome = HttpOutcome(*b, p.input, std::move(*http));
    } else if (std::holds_alternative<SleepDone>(result)) {
        outcome = Done(p.input, nullptr);
    } else {
        auto& call = std::get<CallResult>(result);
        outcome = call.ok ? Done(p.input, std::move(call.value))
                          : Failed(p.input, "the called automation failed: " + call.error_message);
    }
    const Micros started = p.started_at;
    const int attempt = p.attempt;
    state_.pending.reset();
    return Apply(*b, std::move(outcome), started, attempt, iteration);
}

StepResult Executor::Run() {
    if (state_.done()) return {};
    if (state_.pending) {
        if (auto effect = ResumePending()) return {std::move(effect)};
        if (state_.done()) return {};
    }
    const auto& limits = engine_.limits();
    while (true) {
        if (state_.stop_requested) {
            state_.status = RunStatus::kStopped;
            state_.frames.clear();
            return {};
        }
        // One clock read per block: the wall time check and the block's start share it.
        const Micros now = engine_.clock().Now();
        if (now - state_.started_at > limits.max_wall_time) {
            FailRun("The run exceeded its wall time limit of " + std::to_string(limits.max_wall_time / 1000000) +
                        " seconds.",
                    "");
            return {};
        }
        if (state_.frames.empty()) {
            Finish();
            return {};
        }
        Frame& frame = state_.frames.back();
        const BlockList* seq = Sequence(frame);
        if (seq == nullptr) {
            FailRun("The run's position no longer matches the definition (block '" + frame.owner + "').", frame.owner);
            return {};
        }
        if (frame.next >= seq->size()) {
            EndOfSequence();
            continue;
        }
        const Block& b = (*seq)[frame.next++];
        if (b.disabled) continue;
        const auto iteration = Iteration();
        const Micros started = now;
        if (state_.executed_blocks >= limits.max_executed_blocks) {
            const std::string msg =
                "The run exceeded the limit of " + std::to_string(limits.max_executed_blocks) + " executed blocks.";
            Log(b, started, "failed", nullptr, nullptr, msg, 1, iteration);
            FailRun(msg, b.id);
            return {};
        }
        ++state_.executed_blocks;
        Outcome outcome = Execute(b);
        if (auto effect = Apply(b, std::move(outcome), started, 1, iteration)) return {std::move(effect)};
        if (state_.done()) return {};
    }
}

}  // namespace weft::engine
