#pragma once

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "engine/definition.h"
#include "engine/engine.h"
#include "engine/expr_eval.h"

namespace weft::engine::testing {

class FixedClock final : public Clock {
  public:
    explicit FixedClock(Micros now) : now_(now) {}
    Micros Now() const override { return now_; }
    void Set(Micros now) { now_ = now; }
    void Advance(Micros by) { now_ += by; }

  private:
    Micros now_;
};

// 2024-03-15T13:45:30Z, a Friday.
inline constexpr Micros kTestNow = 1710510330LL * 1000000;

class MapScope final : public Scope {
  public:
    json::object roots;
    const json::value* Root(std::string_view name) const override { return roots.if_contains(name); }
};

inline json::value J(std::string_view text) {
    auto v = ParseJson(text);
    EXPECT_TRUE(v.ok()) << text;
    return v.ok() ? v.value() : json::value();
}

inline std::string S(const json::value& v) { return json::serialize(v); }

inline std::string ReadSourceFile(const std::string& relative) {
    std::ifstream in(std::string(WEFT_SOURCE_DIR) + "/" + relative);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string FaultsText(const Error& e) {
    std::string out;
    for (const auto& [path, msgs] : e.fields) {
        for (const auto& m : msgs) out += path + ": " + m + "\n";
    }
    return out;
}

// Runs definitions to completion, answering effects with `respond` and moving the clock to the
// end of every sleep.
struct Harness {
    FixedClock clock{kTestNow};
    int uuids = 0;
    EngineLimits limits;
    std::unique_ptr<Engine> engine;
    std::shared_ptr<const Definition> def;
    RunState state;
    std::vector<Effect> effects;
    std::vector<LogEntry> logs;
    std::function<EffectResult(const Effect&)> respond;

    Harness() { Reset(); }
    void Reset() {
        engine = std::make_unique<Engine>(
            clock, [this] { return "uuid-" + std::to_string(++uuids); }, limits);
    }

    void Load(std::string_view text) {
        auto d = ParseDefinitionText(text);
        ASSERT_TRUE(d.ok()) << FaultsText(d.error());
        def = d.value();
    }

    static EffectResult DefaultResponse(const Effect& e) {
        if (const auto* h = std::get_if<HttpRequestEffect>(&e)) {
            return HttpResult{HttpResponse{200,
                                           {{"Content-Type", "application/json"}},
                                           S(json::object{{"method", h->method}, {"url", h->url}, {"body", h->body}})},
                              TransportError::kNone,
                              {},
                              std::nullopt,
                              std::nullopt};
        }
        if (std::holds_alternative<ConnectorEffect>(e)) {
            return HttpResult{std::nullopt, TransportError::kNone, {}, json::value("mapped"), std::nullopt};
        }
        if (std::holds_alternative<SleepEffect>(e)) return SleepDone{};
        return CallResult{true, json::object{{"called", std::get<CallAutomationEffect>(e).automation}}, {}};
    }

    RunState& Run(json::object inputs = {}, std::string flow = "start", json::value start = json::object{}) {
        if (!def) {
            ADD_FAILURE() << "no definition loaded";
            return state;
        }
        RunStart rs;
        rs.flow = std::move(flow);
        rs.inputs = std::move(inputs);
        rs.start = std::move(start);
        rs.run = json::object{{"guid", "run-1"}, {"context", "manual"}};
        state = engine->StartRun(*def, std::move(rs));
        Continue();
        return state;
    }

    void Continue() {
        for (int guard = 0; guard < 100000; ++guard) {
            auto step = engine->Step(*def, state);
            for (auto& l : state.TakeLogs()) logs.push_back(std::move(l));
            if (step.done()) return;
            effects.push_back(*step.effect);
            if (const auto* s = std::get_if<SleepEffect>(&*step.effect)) clock.Set(std::max(clock.Now(), s->until));
            state.Resume(respond ? respond(*step.effect) : DefaultResponse(*step.effect));
        }
        ADD_FAILURE() << "run did not end";
    }

    std::string LogSummary() const {
        std::string out;
        for (const auto& l : logs) out += l.block_id + ":" + l.status + " ";
        if (!out.empty()) out.pop_back();
        return out;
    }
};

}  // namespace weft::engine::testing
