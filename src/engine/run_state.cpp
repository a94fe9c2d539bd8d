#include "engine/run_state.h"

#include "core/time_format.h"

namespace weft::engine {

namespace {

constexpr RunStatus kStatuses[] = {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFinishedWithWarnings,
                                   RunStatus::kFailed, RunStatus::kStopped};
constexpr const char* kFrameKinds[] = {"flow", "then", "else", "loop"};

const json::value* Get(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string Str(const json::object& o, std::string_view key) {
    const auto* v = Get(o, key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t Int(const json::object& o, std::string_view key, std::int64_t fallback = 0) {
    const auto* v = Get(o, key);
    return v != nullptr && v->is_int64() ? v->get_int64() : fallback;
}

bool Bool(const json::object& o, std::string_view key) {
    const auto* v = Get(o, key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

json::value Val(const json::object& o, std::string_view key, json::value fallback) {
    const auto* v = Get(o, key);
    return v != nullptr ? *v : fallback;
}

LogEntry LogFromJson(const json::object& o) {
    LogEntry e;
    e.block_id = Str(o, "block_id");
    e.type = Str(o, "type");
    e.started_at = Int(o, "started_at_us");
    e.duration_ms = Int(o, "duration_ms");
    e.status = Str(o, "status");
    e.input = Val(o, "input", nullptr);
    e.output = Val(o, "output", nullptr);
    e.error = Str(o, "error");
    e.attempt = static_cast<int>(Int(o, "attempt", 1));
    if (const auto* it = Get(o, "iteration"); it != nullptr && it->is_int64()) e.iteration = it->get_int64();
    return e;
}

}  // namespace

const char* RunStatusName(RunStatus status) {
    switch (status) {
        case RunStatus::kRunning:
            return "running";
        case RunStatus::kFinished:
            return "finished";
        case RunStatus::kFinishedWithWarnings:
            return "finished with warnings";
        case RunStatus::kFailed:
            return "failed";
        case RunStatus::kStopped:
            return "stopped";
    }
    return "unknown";
}

json::value LogEntry::ToJson() const {
    json::object o{{"block_id", block_id.empty() ? json::value(nullptr) : json::value(block_id)},
                   {"type", type},
                   {"started_at", FormatTimestamp(started_at)},
                   {"started_at_us", started_at},
                   {"duration_ms", duration_ms},
                   {"status", status},
                   {"input", input},
                   {"output", output},
                   {"error", error.empty() ? json::value(nullptr) : json::value(error)},
                   {"attempt", attempt},
                   {"iteration", iteration ? json::value(*iteration) : json::value(nullptr)}};
    return o;
}

void RunState::Resume(EffectResult result) {
    if (pending) pending->result = std::move(result);
}

std::vector<LogEntry> RunState::TakeLogs() {
    std::vector<LogEntry> out;
    out.swap(logs);
    return out;
}

json::value RunState::ToJson() const {
    json::array frames_json;
    for (const auto& f : frames) {
        frames_json.push_back(json::object{{"kind", kFrameKinds[static_cast<int>(f.kind)]},
                                           {"owner", f.owner},
                                           {"next", f.next},
                                           {"items", f.items},
                                           {"index", f.index}});
    }
    json::array logs_json;
    for (const auto& l : logs) logs_json.push_back(l.ToJson());
    json::object o{{"version", 1},
                   {"flow", flow},
                   {"status", RunStatusName(status)},
                   {"started_at", started_at},
                   {"call_depth", call_depth},
                   {"stop_requested", stop_requested},
                   {"warnings", warnings},
                   {"inputs", inputs},
                   {"start", start},
                   {"run", run},
                   {"variables", variables},
                   {"outputs", outputs},
                   {"output", output},
                   {"output_appended", output_appended},
                   {"response_headers", response_headers},
                   {"frames", std::move(frames_json)},
                   {"executed_blocks", executed_blocks},
                   {"data_bytes", data_bytes},
                   {"variable_bytes", variable_bytes},
                   {"output_bytes", output_bytes},
                   {"log_bytes", log_bytes},
                   {"log_truncated", log_truncated},
                   {"logs", std::move(logs_json)}};
    if (error) o["error"] = json::object{{"message", error->message}, {"block_id", error->block_id}};
    if (response_status) o["response_status"] = *response_status;
    if (pending) {
        json::object p{{"block_id", pending->block_id},           {"attempt", pending->attempt},
                       {"started_at", pending->started_at},       {"input", pending->input},
                       {"effect", EffectToJson(pending->effect)}, {"waiting_retry", pending->waiting_retry},
                       {"retry_until", pending->retry_until}};
        if (pending->result) p["result"] = EffectResultToJson(*pending->result);
        o["pending"] = std::move(p);
    }
    return o;
}

Result<RunState> RunState::FromJson(const json::value& v) {
    if (!v.is_object() || Int(v.get_object(), "version") != 1) return Error::Invalid("not a version 1 run state");
    const auto& o = v.get_object();
    RunState s;
    s.flow = Str(o, "flow");
    const std::string status = Str(o, "status");
    bool known = false;
    for (auto st : kStatuses) {
        if (status == RunStatusName(st)) {
            s.status = st;
            known = true;
        }
    }
    if (!known) return Error::Invalid("unknown run status '" + status + "'");
    s.started_at = Int(o, "started_at");
    s.call_depth = static_cast<int>(Int(o, "call_depth"));
    s.stop_requested = Bool(o, "stop_requested");
    s.warnings = Bool(o, "warnings");
    if (const auto* e = Get(o, "error"); e != nullptr && e->is_object()) {
        s.error = RunError{Str(e->get_object(), "message"), Str(e->get_object(), "block_id")};
    }
    s.inputs = Val(o, "inputs", json::object{});
    s.start = Val(o, "start", json::object{});
    s.run = Val(o, "run", json::object{});
    s.variables = Val(o, "variables", json::object{});
    s.outputs = Val(o, "outputs", json::object{});
    s.output = Val(o, "output", json::object{});
    s.output_appended = Bool(o, "output_appended");
    if (const auto* rs = Get(o, "response_status"); rs != nullptr && rs->is_int64()) {
        s.response_status = static_cast<int>(rs->get_int64());
    }
    if (const auto* rh = Get(o, "response_headers"); rh != nullptr && rh->is_object()) {
        s.response_headers = rh->get_object();
    }
    if (const auto* fr = Get(o, "frames"); fr != nullptr && fr->is_array()) {
        for (const auto& f : fr->get_array()) {
            if (!f.is_object()) return Error::Invalid("malformed frame");
            const auto& fo = f.get_object();
            Frame frame;
            const std::string kind = Str(fo, "kind");
            bool kind_known = false;
            for (int k = 0; k < 4; ++k) {
                if (kind == kFrameKinds[k]) {
                    frame.kind = static_cast<Frame::Kind>(k);
                    kind_known = true;
                }
            }
            if (!kind_known) return Error::Invalid("unknown frame kind '" + kind + "'");
            frame.owner = Str(fo, "owner");
            frame.next = static_cast<std::size_t>(Int(fo, "next"));
            if (const auto* items = Get(fo, "items"); items != nullptr && items->is_array()) {
                frame.items = items->get_array();
            }
            frame.index = Int(fo, "index");
            s.frames.push_back(std::move(frame));
        }
    }
    if (const auto* p = Get(o, "pending"); p != nullptr && p->is_object()) {
        const auto& po = p->get_object();
        const auto* effect_json = Get(po, "effect");
        if (effect_json == nullptr) return Error::Invalid("pending block without effect");
        auto effect = EffectFromJson(*effect_json);
        if (!effect) return effect.error();
        PendingBlock pb{Str(po, "block_id"),
                        static_cast<int>(Int(po, "attempt", 1)),
                        Int(po, "started_at"),
                        Val(po, "input", nullptr),
                        std::move(effect.value()),
                        Bool(po, "waiting_retry"),
                        std::nullopt,
                        Int(po, "retry_until")};
        if (const auto* r = Get(po, "result")) {
            auto result = EffectResultFromJson(*r);
            if (!result) return result.error();
            pb.result = std::move(result.value());
        }
        s.pending = std::move(pb);
    }
    s.executed_blocks = Int(o, "executed_blocks");
    s.data_bytes = Int(o, "data_bytes");
    if (const auto* vb = Get(o, "variable_bytes"); vb != nullptr && vb->is_object())
        s.variable_bytes = vb->get_object();
    s.output_bytes = Int(o, "output_bytes", 2);
    s.log_bytes = Int(o, "log_bytes");
    s.log_truncated = Bool(o, "log_truncated");
    if (const auto* l = Get(o, "logs"); l != nullptr && l->is_array()) {
        for (const auto& e : l->get_array()) {
            if (e.is_object()) s.logs.push_back(LogFromJson(e.get_object()));
        }
    }
    return s;
}

}  // namespace weft::engine
