#include "engine/run_state.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

constexpr std::string_view kDef = R"({"variables": [{"name": "seen", "type": "list"}], "flows": {"start": [
    {"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
        {"id": "get", "type": "http", "url": "https://x/{$.l.item}", "retry": {"max_attempts": 2, "delay_ms": 5}},
        {"id": "v", "type": "variable", "variable": "seen", "operations": [{"op": "append", "value": "{$.get.body}"}]},
        {"id": "nap", "type": "sleep", "seconds": 1}]},
    {"id": "out", "type": "output", "value": "{$.variables.seen}"}]}})";

EffectResult Answer(const Effect& e, int& calls) {
    if (std::holds_alternative<SleepEffect>(e)) return SleepDone{};
    ++calls;
    if (calls == 2) return HttpResult{std::nullopt, TransportError::kNetwork, "reset", std::nullopt, std::nullopt};
    const auto& h = std::get<HttpRequestEffect>(e);
    return HttpResult{HttpResponse{200, {}, h.url}, TransportError::kNone, {}, std::nullopt, std::nullopt};
}

TEST(RunStateTest, PersistingAndResumingAtEveryEffectGivesTheSameRun) {
    Harness straight;
    straight.Load(kDef);
    int calls = 0;
    straight.respond = [&calls](const Effect& e) { return Answer(e, calls); };
    const json::object inputs{{"items", json::array{"a", "b", "c"}}};
    auto& expected = straight.Run(inputs);
    ASSERT_EQ(expected.status, RunStatus::kFinished);

    // The same run, but the state goes through JSON text at every effect, as a host persisting it would.
    Harness h;
    h.Load(kDef);
    RunStart start;
    start.inputs = inputs;
    start.run = json::object{{"guid", "run-1"}, {"context", "manual"}};
    RunState state = h.engine->StartRun(*h.def, start);
    int calls2 = 0;
    int effects = 0;
    std::vector<LogEntry> logs;
    while (true) {
        auto step = h.engine->Step(*h.def, state);
        for (auto& l : state.TakeLogs()) logs.push_back(std::move(l));
        if (step.done()) break;
        ++effects;
        auto reparsed = RunState::FromJson(J(S(state.ToJson())));
        ASSERT_TRUE(reparsed.ok()) << reparsed.error().message;
        state = std::move(reparsed.value());
        if (const auto* s = std::get_if<SleepEffect>(&*step.effect)) h.clock.Set(s->until);
        state.Resume(Answer(*step.effect, calls2));
        auto again = RunState::FromJson(J(S(state.ToJson())));
        ASSERT_TRUE(again.ok());
        state = std::move(again.value());
    }
    EXPECT_EQ(effects, static_cast<int>(straight.effects.size()));
    EXPECT_EQ(state.status, RunStatus::kFinished);
    EXPECT_EQ(state.output, expected.output);
    EXPECT_EQ(state.output, J(R"(["https://x/a", "https://x/b", "https://x/c"])"));
    EXPECT_EQ(logs.size(), straight.logs.size());
    EXPECT_EQ(S(state.ToJson().get_object().at("variables")), S(expected.ToJson().get_object().at("variables")));
}

TEST(RunStateTest, RejectsGarbage) {
    EXPECT_FALSE(RunState::FromJson(json::value(1)).ok());
    EXPECT_FALSE(RunState::FromJson(J(R"({"version": 2})")).ok());
    EXPECT_FALSE(RunState::FromJson(J(R"({"version": 1, "status": "dancing"})")).ok());
}

TEST(RunStateTest, StatusNames) {
    EXPECT_STREQ(RunStatusName(RunStatus::kFinishedWithWarnings), "finished with warnings");
    EXPECT_STREQ(RunStatusName(RunStatus::kStopped), "stopped");
}

TEST(RunStateTest, LogEntryJson) {
    LogEntry e;
    e.block_id = "get";
    e.type = "http";
    e.started_at = kTestNow;
    e.status = "ok";
    e.iteration = 2;
    auto j = e.ToJson();
    EXPECT_EQ(j.get_object().at("started_at"), json::value("2024-03-15T13:45:30.000000Z"));
    EXPECT_EQ(j.get_object().at("iteration"), json::value(2));
    EXPECT_EQ(j.get_object().at("error"), json::value(nullptr));
}

}  // namespace
}  // namespace weft::engine::testing
