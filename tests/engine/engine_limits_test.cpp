// Per-run limits: each failure names the limit.

#include "engine/engine.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

std::string Def(std::string_view blocks, std::string_view variables = "[]") {
    return R"({"variables": )" + std::string(variables) + R"(, "flows": {"start": [)" + std::string(blocks) + "]}}";
}

TEST(EngineLimitsTest, DefaultsMatchTheSpec) {
    EngineLimits l;
    EXPECT_EQ(l.max_executed_blocks, 100000);
    EXPECT_EQ(l.max_data_bytes, 64 * 1024 * 1024);
    EXPECT_EQ(l.max_loop_depth, 16);
    EXPECT_EQ(l.max_call_depth, 8);
    EXPECT_EQ(l.max_log_bytes, 10 * 1024 * 1024);
    EXPECT_EQ(l.max_log_value_bytes, 64u * 1024);
    EXPECT_EQ(l.max_wall_time, 4LL * 3600 * 1000000);
}

TEST(EngineLimitsTest, ExecutedBlocks) {
    Harness h;
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                    {"id": "v", "type": "variable", "variable": "n", "operations": [{"op": "increment"}]}]})",
               R"([{"name": "n", "type": "number"}])"));
    json::array items;
    for (int i = 0; i < 100001; ++i) items.push_back(i);
    auto& s = h.Run(json::object{{"items", items}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded the limit of 100000 executed blocks.");
    EXPECT_EQ(s.variables.get_object()["n"], json::value(99999));
}

TEST(EngineLimitsTest, ExecutedBlocksIsConfigurable) {
    Harness h;
    h.limits.max_executed_blocks = 3;
    h.Reset();
    h.Load(Def(R"({"id": "a", "type": "output", "value": 1}, {"id": "b", "type": "output", "value": 2},
                  {"id": "c", "type": "output", "value": 3}, {"id": "d", "type": "output", "value": 4})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded the limit of 3 executed blocks.");
    EXPECT_EQ(s.error->block_id, "d");
    EXPECT_EQ(s.output, json::value(3));
}

TEST(EngineLimitsTest, VariableAndOutputData) {
    Harness h;
    h.limits.max_data_bytes = 1024 * 1024;
    h.Reset();
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                    {"id": "v", "type": "variable", "variable": "big", "operations": [{"op": "append", "value": "{$.inputs.chunk}"}]}]})",
               R"([{"name": "big", "type": "list"}])"));
    json::array items;
    for (int i = 0; i < 200; ++i) items.push_back(i);
    auto& s = h.Run(json::object{{"items", items}, {"chunk", std::string(10000, 'x')}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded its limit of 1 MiB of variable and output data.");
    EXPECT_EQ(s.error->block_id, "v");

    Harness h2;
    h2.limits.max_data_bytes = 1024 * 1024;
    h2.Reset();
    h2.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                     {"id": "o", "type": "output", "mode": "append", "value": "{$.inputs.chunk}"}]})"));
    auto& s2 = h2.Run(json::object{{"items", items}, {"chunk", std::string(10000, 'x')}});
    EXPECT_EQ(s2.status, RunStatus::kFailed);
    EXPECT_NE(s2.error->message.find("MiB of variable and output data"), std::string::npos);
}

TEST(EngineLimitsTest, DataLimitIgnoresOnError) {
    Harness h;
    h.limits.max_data_bytes = 1000;
    h.Reset();
    h.Load(Def(R"({"id": "o", "type": "output", "value": "{$.inputs.chunk}", "on_error": "ignore"})"));
    EXPECT_EQ(h.Run(json::object{{"chunk", std::string(2000, 'x')}}).status, RunStatus::kFailed);
}

TEST(EngineLimitsTest, ValueNesting) {
    Harness h;
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                    {"id": "v", "type": "variable", "variable": "o", "operations": [{"op": "set", "value": {"in": "{$.variables.o}"}}]}]})",
               R"([{"name": "o", "type": "object"}])"));
    json::array items;
    for (int i = 0; i < 1000; ++i) items.push_back(i);
    auto& s = h.Run(json::object{{"items", items}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded its limit of 128 levels of nesting in a value.");
}

TEST(EngineLimitsTest, LoopDepthAtRunTime) {
    Harness h;
    h.limits.max_loop_depth = 2;
    h.Reset();
    h.Load(Def(R"({"id": "a", "type": "loop", "over": [1], "do": [
                    {"id": "b", "type": "loop", "over": [1], "do": [
                      {"id": "c", "type": "loop", "over": [1], "do": [{"id": "o", "type": "output", "value": 1}]}]}]})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded its loop depth limit of 2 nested loops.");
    EXPECT_EQ(s.error->block_id, "c");
}

TEST(EngineLimitsTest, CallAutomationDepth) {
    Harness h;
    h.Load(Def(R"({"id": "sub", "type": "call_automation", "automation": "self", "on_error": "ignore"})"));
    RunStart start;
    start.call_depth = 8;
    h.state = h.engine->StartRun(*h.def, start);
    h.Continue();
    EXPECT_EQ(h.state.status, RunStatus::kFailed);
    EXPECT_EQ(h.state.error->message, "The run exceeded its call_automation depth limit of 8 nested calls.");
    EXPECT_TRUE(h.effects.empty());

    Harness h2;
    h2.Load(Def(R"({"id": "sub", "type": "call_automation", "automation": "self"})"));
    start.call_depth = 7;
    h2.state = h2.engine->StartRun(*h2.def, start);
    h2.Continue();
    EXPECT_EQ(h2.state.status, RunStatus::kFinished);
    EXPECT_EQ(std::get<CallAutomationEffect>(h2.effects.at(0)).depth, 8);
}

TEST(EngineLimitsTest, WallTime) {
    Harness h;
    h.Load(Def(R"({"id": "nap", "type": "sleep", "seconds": 3600},
                  {"id": "nap2", "type": "sleep", "seconds": 3600},
                  {"id": "nap3", "type": "sleep", "seconds": 3600},
                  {"id": "nap4", "type": "sleep", "seconds": 3600},
                  {"id": "nap5", "type": "sleep", "seconds": 1},
                  {"id": "o", "type": "output", "value": 1})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "The run exceeded its wall time limit of 14400 seconds.");
}

TEST(EngineLimitsTest, LogIsCappedWithAFinalEntry) {
    Harness h;
    h.limits.max_log_bytes = 20000;
    h.Reset();
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                    {"id": "o", "type": "output", "value": "{$.inputs.chunk}"}]})"));
    json::array items;
    for (int i = 0; i < 50; ++i) items.push_back(i);
    auto& s = h.Run(json::object{{"items", items}, {"chunk", std::string(1000, 'y')}});
    EXPECT_EQ(s.status, RunStatus::kFinished);
    ASSERT_LT(h.logs.size(), 50u);
    EXPECT_EQ(h.logs.back().status, "truncated");
    EXPECT_EQ(h.logs.back().error,
              "The log of this run was truncated: it reached the limit of 20000 bytes; later blocks are not logged.");
    EXPECT_TRUE(s.log_truncated);
    EXPECT_EQ(s.output, json::value(std::string(1000, 'y')));
}

TEST(EngineLimitsTest, LargeValuesAreTruncatedInTheLogOnly) {
    Harness h;
    h.Load(Def(R"({"id": "o", "type": "output", "value": "{$.inputs.big}"})"));
    const std::string big(100 * 1024, 'z');
    auto& s = h.Run(json::object{{"big", big}});
    EXPECT_EQ(s.output, json::value(big));
    ASSERT_EQ(h.logs.size(), 1u);
    const auto& logged = h.logs[0].output;
    ASSERT_TRUE(logged.is_string());
    EXPECT_LT(logged.get_string().size(), 65 * 1024u);
    EXPECT_NE(std::string(logged.get_string()).find("[truncated: value was 102402 bytes]"), std::string::npos);
}

}  // namespace
}  // namespace weft::engine::testing
