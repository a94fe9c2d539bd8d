#include "engine/definition.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

// The faults of an invalid definition, as path -> messages.
FieldErrors FaultsOf(std::string_view text) {
    auto d = ParseDefinitionText(text);
    EXPECT_FALSE(d.ok()) << "definition unexpectedly valid: " << text;
    if (d.ok()) return {};
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidDefinition);
    return d.error().fields;
}

// True when `faults` has a message at `path` containing `needle`.
::testing::AssertionResult HasFault(const FieldErrors& faults, const std::string& path, const std::string& needle) {
    auto it = faults.find(path);
    if (it != faults.end()) {
        for (const auto& m : it->second) {
            if (m.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
        }
    }
    std::string all;
    for (const auto& [p, msgs] : faults) {
        for (const auto& m : msgs) all += "\n  " + p + ": " + m;
    }
    return ::testing::AssertionFailure() << "no fault at '" << path << "' containing '" << needle
                                         << "'; faults:" << all;
}

std::string Flow(std::string_view blocks, std::string_view other_flows = "") {
    return R"({"schema": 1, "variables": [{"name": "list", "type": "list"}, {"name": "text", "type": "string"},
               {"name": "num", "type": "number"}, {"name": "obj", "type": "object"}, {"name": "tab", "type": "table"}],
               "flows": {"start": [)" +
           std::string(blocks) + "]" + std::string(other_flows) + "}}";
}

TEST(DefinitionTest, ParsesACompleteDefinition) {
    auto d = ParseDefinitionText(R"({
      "schema": 1, "run_mode": "triggered", "async_trigger": true,
      "inputs": [{"block_id": "inputs", "flow": "start", "field_name": "email", "prompt": "E-mail address",
                  "type": "string", "required": true, "persisted": false, "default": null},
                 {"field_name": "Your name", "type": "string"},
                 {"field_name": "ds", "type": "datasource", "connector": "slack", "flow": "setup"}],
      "variables": [{"name": "seen", "type": "list"}],
      "flows": {
        "start": [
          {"id": "getUser", "type": "http", "method": "post", "url": "https://api.example.com/users/{$.inputs.email}",
           "query": {"expand": "all"}, "headers": {"X-A": "1"}, "body": {"name": "{$.inputs.'Your name'}"},
           "timeout_ms": 5000, "response": "json", "accept_status": [404],
           "retry": {"max_attempts": 3, "backoff": "exponential", "delay_ms": 100, "max_delay_ms": 1000},
           "on_error": "warning", "name": "Get user", "comment": "why"},
          {"id": "check", "type": "condition", "match": "any",
           "conditions": [{"left": "{$.getUser.status}", "op": "equals", "right": 200},
                          {"left": "{$.inputs.email}", "op": "matches", "right": "^[a-z]+@"}],
           "then": [{"id": "remember", "type": "variable", "variable": "seen",
                     "operations": [{"op": "append", "value": "{$.getUser.body}"}]}],
           "else": [{"id": "oops", "type": "error", "message": "no user", "stop": false}]},
          {"id": "each", "type": "loop", "over": "{$.variables.seen}", "max_iterations": 10, "do": [
             {"id": "nap", "type": "sleep", "seconds": 1},
             {"id": "sub", "type": "call_automation", "automation": "child", "inputs": {"x": "{$.each.item}"}, "async": true},
             {"id": "leave", "type": "exit_loop"}]},
          {"id": "send", "type": "connector", "connector": "slack", "endpoint": "post_message", "datasource": "{$.inputs.ds}",
           "params": {"text": "hi"}},
          {"id": "result", "type": "output", "value": {"user": "{$.getUser.body}", "count": "{$.each.count}"},
           "status": 201, "headers": {"X-Run": "{$.run.guid}"}, "mode": "replace"},
          {"id": "off", "type": "stop", "disabled": true},
          {"id": "done", "type": "stop"}
        ],
        "setup": [{"id": "setupOut", "type": "output", "value": "ok"}]
      }})");
    ASSERT_TRUE(d.ok()) << FaultsText(d.error());
    const Definition& def = *d.value();
    EXPECT_EQ(def.run_mode, RunMode::kTriggered);
    EXPECT_TRUE(def.async_trigger);
    EXPECT_TRUE(def.has_setup());
    EXPECT_FALSE(def.has_settings());
    ASSERT_EQ(def.inputs.size(), 3u);
    EXPECT_TRUE(def.inputs[0].required);
    EXPECT_EQ(def.inputs[2].type, InputType::kDatasource);
    EXPECT_EQ(def.inputs[2].connector, "slack");
    const Block* http = def.FindBlock("getUser");
    ASSERT_NE(http, nullptr);
    EXPECT_EQ(http->type, BlockType::kHttp);
    EXPECT_EQ(std::get<json::value>(http->method.node), json::value("POST"));
    EXPECT_EQ(http->timeout_ms, 5000);
    EXPECT_EQ(http->response, ResponseMode::kJson);
    EXPECT_EQ(http->accept_status, std::vector<int>{404});
    EXPECT_EQ(http->retry.max_attempts, 3);
    EXPECT_EQ(http->retry.backoff, Backoff::kExponential);
    EXPECT_EQ(http->on_error, OnError::kWarning);
    EXPECT_EQ(http->path, "flows.start[0]");
    const Block* check = def.FindBlock("check");
    ASSERT_NE(check, nullptr);
    EXPECT_FALSE(check->match_all);
    EXPECT_NE(check->conditions[1].regex, nullptr);
    EXPECT_EQ(def.FindBlock("remember")->variable_type, VariableType::kList);
    EXPECT_EQ(def.FindBlock("nap")->loop_depth, 1);
    EXPECT_TRUE(def.FindBlock("sub")->async);
    EXPECT_TRUE(def.FindBlock("off")->disabled);
    EXPECT_FALSE(def.FindBlock("oops")->stop);
    EXPECT_EQ(def.FindBlock("each")->max_iterations, 10);
}

TEST(DefinitionTest, MinimalDefinition) {
    auto d = ParseDefinitionText(R"({"flows": {"start": []}})");
    ASSERT_TRUE(d.ok()) << FaultsText(d.error());
    EXPECT_EQ(d.value()->run_mode, RunMode::kManual);
}

TEST(DefinitionTest, DocumentFaults) {
    EXPECT_TRUE(HasFault(FaultsOf("[]"), "", "must be a JSON object"));
    EXPECT_TRUE(HasFault(FaultsOf("{nope"), "", "not valid JSON"));
    auto f = FaultsOf(R"({"schema": 2, "run_mode": "often", "async_trigger": "yes", "extra": 1,
                         "flows": {"begin": []}})");
    EXPECT_TRUE(HasFault(f, "schema", "must be 1"));
    EXPECT_TRUE(HasFault(f, "run_mode", "\"manual\", \"scheduled\" or \"triggered\""));
    EXPECT_TRUE(HasFault(f, "async_trigger", "true or false"));
    EXPECT_TRUE(HasFault(f, "extra", "unknown field"));
    EXPECT_TRUE(HasFault(f, "flows.begin", "unknown flow"));
    EXPECT_TRUE(HasFault(f, "flows.start", "is required"));
    EXPECT_TRUE(HasFault(FaultsOf(R"({"schema": 1})"), "flows", "is required"));
    EXPECT_TRUE(HasFault(FaultsOf(R"({"flows": {"start": {}}})"), "flows.start", "must be a list of blocks"));
}

TEST(DefinitionTest, InputAndVariableFaults) {
    auto f = FaultsOf(R"({"inputs": [{"field_name": "a", "type": "date"}, {"field_name": "a", "flow": "delete"},
                                     {"type": "string", "required": "yes", "colour": 1}, 5],
                         "variables": [{"name": "v", "type": "set"}, {"name": "v", "type": "list"},
                                       {"name": "1x", "type": "string"}, {"type": "list"}],
                         "flows": {"start": []}})");
    EXPECT_TRUE(HasFault(f, "inputs[0].type", "unknown input type 'date'"));
    EXPECT_TRUE(HasFault(f, "inputs[1].field_name", "duplicate input 'a'"));
    EXPECT_TRUE(HasFault(f, "inputs[1].flow", "\"start\", \"setup\" or \"settings\""));
    EXPECT_TRUE(HasFault(f, "inputs[2].field_name", "is required"));
    EXPECT_TRUE(HasFault(f, "inputs[2].required", "true or false"));
    EXPECT_TRUE(HasFault(f, "inputs[2].colour", "unknown field"));
    EXPECT_TRUE(HasFault(f, "inputs[3]", "must be an object"));
    EXPECT_TRUE(HasFault(f, "variables[0].type", "unknown variable type 'set'"));
    EXPECT_TRUE(HasFault(f, "variables[1].name", "duplicate variable 'v'"));
    EXPECT_TRUE(HasFault(f, "variables[2].name", "[A-Za-z_][A-Za-z0-9_]*"));
    EXPECT_TRUE(HasFault(f, "variables[3].name", "is required"));
}

TEST(DefinitionTest, BlockFaultsAreAllReportedWithPaths) {
    auto f = FaultsOf(Flow(R"(
        {"id": "a", "type": "teleport"},
        {"id": "b", "type": "output", "value": "x"},
        {"id": "b", "type": "output", "value": "y"},
        {"id": "9lives", "type": "stop"},
        {"type": "stop"},
        {"id": "c", "type": "output", "value": "{nosuch: 1}", "colour": "red"},
        {"id": "d", "type": "output", "value": "{trim: 'a', 'b'}", "mode": "prepend", "status": 700},
        {"id": "e", "type": "http", "url": "https://x/{$.later.body}", "method": "FETCH", "timeout_ms": 0,
         "response": "xml", "accept_status": [42], "on_error": "panic",
         "retry": {"max_attempts": 11, "backoff": "linear", "delay_ms": -1, "jitter": true}},
        {"id": "later", "type": "output", "value": 1},
        {"id": "inputs", "type": "stop"},
        "not a block"
    )"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].type", "unknown block type 'teleport'"));
    EXPECT_TRUE(HasFault(f, "flows.start[2].id", "duplicate id 'b' (also at flows.start[1])"));
    EXPECT_TRUE(HasFault(f, "flows.start[3].id", "'9lives' is not a valid id"));
    EXPECT_TRUE(HasFault(f, "flows.start[4].id", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[5].value", "unknown formula 'nosuch'"));
    EXPECT_TRUE(HasFault(f, "flows.start[5].colour", "unknown field for a output block"));
    EXPECT_TRUE(HasFault(f, "flows.start[6].value", "formula 'trim' takes 1 argument, got 2"));
    EXPECT_TRUE(HasFault(f, "flows.start[6].mode", "\"replace\" or \"append\""));
    EXPECT_TRUE(HasFault(f, "flows.start[6].status", "100..599"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].url", "block 'later', which cannot have run yet"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].method", "unknown HTTP method 'FETCH'"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].timeout_ms", "from 1 to"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].response", "\"auto\", \"json\" or \"text\""));
    EXPECT_TRUE(HasFault(f, "flows.start[7].accept_status", "HTTP status codes"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].on_error", "\"stop\", \"warning\" or \"ignore\""));
    EXPECT_TRUE(HasFault(f, "flows.start[7].retry.max_attempts", "from 1 to 10"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].retry.backoff", "\"fixed\" or \"exponential\""));
    EXPECT_TRUE(HasFault(f, "flows.start[7].retry.delay_ms", "from 0 to"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].retry.jitter", "unknown field"));
    EXPECT_TRUE(HasFault(f, "flows.start[9].id", "'inputs' is reserved"));
    EXPECT_TRUE(HasFault(f, "flows.start[10]", "must be an object"));
}

TEST(DefinitionTest, TemplateFaultInsideObjectHasFullPath) {
    auto f = FaultsOf(Flow(R"({"id": "h", "type": "http", "url": "https://x", "body": {"a": [1, "{bad: 2}"]}})"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].body.a[1]", "unknown formula 'bad'"));
}

TEST(DefinitionTest, ReferenceScoping) {
    auto f = FaultsOf(Flow(R"(
        {"id": "first", "type": "output", "value": "{$.first}"},
        {"id": "cond", "type": "condition", "conditions": [{"left": "{$.inThen}", "op": "is_empty"}],
         "then": [{"id": "inThen", "type": "output", "value": "{$.cond} {$.first}"}],
         "else": [{"id": "inElse", "type": "output", "value": "{$.inThen}"}]},
        {"id": "loop1", "type": "loop", "over": "{$.variables.list}", "do": [
            {"id": "body1", "type": "output", "value": "{$.loop1.item} {$.body2}"},
            {"id": "body2", "type": "output", "value": "{$.body1}"}]},
        {"id": "after", "type": "output", "value": "{$.loop1.count} {$.body1} {$.inElse}"},
        {"id": "bad1", "type": "output", "value": "{$.loop1.item}"},
        {"id": "bad2", "type": "output", "value": "{$.ghost}"},
        {"id": "bad3", "type": "output", "value": "{$.variables.nope} {$.variables}"},
        {"id": "bad4", "type": "output", "value": "{$.setupBlock}"},
        {"id": "fine", "type": "output", "value": "{$.inputs.anything} {$.start.body} {$.run.guid}"}
    )",
                           R"(, "setup": [{"id": "setupBlock", "type": "stop"}])"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].value", "cannot use its own output"));
    EXPECT_TRUE(HasFault(f, "flows.start[1].conditions[0].left", "block 'inThen', which cannot have run yet"));
    EXPECT_TRUE(HasFault(f, "flows.start[2].do[0].value", "block 'body2', which cannot have run yet"));
    EXPECT_TRUE(HasFault(f, "flows.start[4].value", "'$.loop1.item' is only available inside loop 'loop1'"));
    EXPECT_TRUE(HasFault(f, "flows.start[5].value", "unknown block 'ghost'"));
    EXPECT_TRUE(HasFault(f, "flows.start[6].value", "unknown variable 'nope'"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].value", "block 'setupBlock', which cannot have run yet"));
    EXPECT_EQ(f.count("flows.start[1].then[0].value"), 0u);
    EXPECT_EQ(f.count("flows.start[1].else[0].value"), 0u);
    EXPECT_EQ(f.count("flows.start[2].do[1].value"), 0u);
    EXPECT_EQ(f.count("flows.start[3].value"), 0u);
    EXPECT_EQ(f.count("flows.start[8].value"), 0u);
}

TEST(DefinitionTest, VariableOperationTypeRules) {
    auto f = FaultsOf(Flow(R"(
        {"id": "v1", "type": "variable", "variable": "list", "operations": [{"op": "increment", "value": 1}]},
        {"id": "v2", "type": "variable", "variable": "text", "operations": [{"op": "append", "value": "x"}]},
        {"id": "v3", "type": "variable", "variable": "num", "operations": [{"op": "merge", "value": {}}]},
        {"id": "v4", "type": "variable", "variable": "ghost", "operations": [{"op": "set", "value": 1}]},
        {"id": "v5", "type": "variable", "variable": "obj", "operations": [{"op": "pop"}, {"op": "set"}]},
        {"id": "v6", "type": "variable", "variable": "tab"},
        {"id": "ok", "type": "variable", "variable": "tab", "operations": [{"op": "append", "value": [1]}, {"op": "clear"}]}
    )"));
    EXPECT_TRUE(
        HasFault(f, "flows.start[0].operations[0].op", "'increment' needs a number variable; 'list' is a list"));
    EXPECT_TRUE(
        HasFault(f, "flows.start[1].operations[0].op", "'append' needs a list or table variable; 'text' is a string"));
    EXPECT_TRUE(HasFault(f, "flows.start[2].operations[0].op", "'merge' needs an object variable; 'num' is a number"));
    EXPECT_TRUE(HasFault(f, "flows.start[3].variable", "unknown variable 'ghost'"));
    EXPECT_TRUE(HasFault(f, "flows.start[4].operations[0].op", "unknown operation 'pop'"));
    EXPECT_TRUE(HasFault(f, "flows.start[4].operations[1].value", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[5].operations", "is required"));
    EXPECT_EQ(f.count("flows.start[6].operations[0].op"), 0u);
}

TEST(DefinitionTest, ConditionFaults) {
    auto f = FaultsOf(Flow(R"(
        {"id": "c", "type": "condition", "match": "most", "conditions": [
            {"left": "a", "op": "approx", "right": "b"},
            {"left": "a", "op": "equals"},
            {"left": "a", "op": "matches", "right": "(unclosed"},
            {"left": "a", "op": "is_empty"}],
         "then": "nope"}
    )"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].match", "\"all\" or \"any\""));
    EXPECT_TRUE(HasFault(f, "flows.start[0].conditions[0].op", "unknown condition operator 'approx'"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].conditions[1].right", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].conditions[2].right", "invalid regular expression"));
    EXPECT_EQ(f.count("flows.start[0].conditions[3].right"), 0u);
    EXPECT_TRUE(HasFault(f, "flows.start[0].then", "must be a list of blocks"));
}

TEST(DefinitionTest, LoopSleepAndOtherFaults) {
    auto f = FaultsOf(Flow(R"(
        {"id": "x", "type": "exit_loop"},
        {"id": "l", "type": "loop", "max_iterations": 0},
        {"id": "s1", "type": "sleep", "seconds": 3601},
        {"id": "s2", "type": "sleep", "seconds": true},
        {"id": "s3", "type": "sleep"},
        {"id": "e", "type": "error"},
        {"id": "ca", "type": "call_automation", "async": 1},
        {"id": "cn", "type": "connector", "params": []},
        {"id": "h", "type": "http", "query": 5}
    )"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].type", "exit_loop must be inside a loop"));
    EXPECT_TRUE(HasFault(f, "flows.start[1].over", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[1].do", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[1].max_iterations", "from 1 to"));
    EXPECT_TRUE(HasFault(f, "flows.start[2].seconds", "from 0 to 3600 seconds"));
    EXPECT_TRUE(HasFault(f, "flows.start[3].seconds", "number of seconds or a template"));
    EXPECT_TRUE(HasFault(f, "flows.start[4].seconds", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[5].message", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[6].automation", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[6].async", "true or false"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].connector", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].endpoint", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[7].params", "must be an object"));
    EXPECT_TRUE(HasFault(f, "flows.start[8].url", "is required"));
    EXPECT_TRUE(HasFault(f, "flows.start[8].query", "must be an object"));
    auto u = FaultsOf(Flow(R"({"id": "h", "type": "http", "url": "ftp://files.example.com"},
                              {"id": "ok1", "type": "http", "url": "HTTPS://x.example.com"},
                              {"id": "ok2", "type": "http", "url": "{$.inputs.base}/path"})"));
    EXPECT_TRUE(HasFault(u, "flows.start[0].url", "must start with http:// or https://"));
    EXPECT_EQ(u.size(), 1u);
}

std::string NestedLoops(int depth) {
    std::string open, close;
    for (int i = 0; i < depth; ++i) {
        open += R"({"id": "l)" + std::to_string(i) + R"(", "type": "loop", "over": "{$.variables.list}", "do": [)";
        close += "]}";
    }
    return Flow(open + close);
}

TEST(DefinitionTest, LoopDepthLimit) {
    auto ok = ParseDefinitionText(NestedLoops(16));
    EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : FaultsText(ok.error()));
    auto f = FaultsOf(NestedLoops(17));
    std::string path = "flows.start[0]";
    for (int i = 1; i < 17; ++i) path += ".do[0]";
    EXPECT_TRUE(HasFault(f, path, "loops are nested 17 deep; the loop depth limit is 16"));
}

TEST(DefinitionTest, LiteralTimeZonesAndSleepTextAreCheckedAtSaveTime) {
    auto f = FaultsOf(Flow(R"(
        {"id": "a", "type": "output", "value": "{date: now, 'Y', 'Europe/Atlantis'}"},
        {"id": "b", "type": "output", "value": {"x": ["{date_add: now, 1, 'day', {trim: 'Mars/Base'}}",
                                                      "{date_add: now, 1, 'day', 'Nowhere/City'}"]}},
        {"id": "c", "type": "sleep", "seconds": "7200"},
        {"id": "ok", "type": "output", "value": "{date: now, 'Y', 'America/Argentina/Buenos_Aires'}"}
    )"));
    EXPECT_TRUE(HasFault(f, "flows.start[0].value", "unknown time zone 'Europe/Atlantis' in formula 'date'"));
    EXPECT_TRUE(HasFault(f, "flows.start[1].value", "unknown time zone 'Nowhere/City' in formula 'date_add'"));
    EXPECT_TRUE(HasFault(f, "flows.start[2].seconds", "from 0 to 3600 seconds"));
    EXPECT_EQ(f.count("flows.start[3].value"), 0u);
}

TEST(DefinitionTest, TemplatedSleepIsCheckedAtRunTime) {
    auto d = ParseDefinitionText(Flow(R"({"id": "s", "type": "sleep", "seconds": "{$.inputs.wait}"})"));
    EXPECT_TRUE(d.ok());
}

}  // namespace
}  // namespace weft::engine::testing

namespace weft::engine::testing {
namespace {

TEST(DefinitionDocsTest, CompleteExamplesInDocsAreValid) {
    std::istringstream in(ReadSourceFile("docs/automations.md"));
    std::string line, block;
    bool inside = false;
    int checked = 0;
    while (std::getline(in, line)) {
        if (!inside && line == "```json") {
            inside = true;
            block.clear();
        } else if (inside && line == "```") {
            inside = false;
            auto doc = ParseJson(block);
            if (!doc.ok() || !doc->is_object() || !doc->get_object().contains("flows")) continue;
            auto d = ParseDefinition(doc.value());
            EXPECT_TRUE(d.ok()) << block << "\n" << (d.ok() ? "" : FaultsText(d.error()));
            ++checked;
        } else if (inside) {
            block += line + "\n";
        }
    }
    EXPECT_GE(checked, 1);
}

}  // namespace
}  // namespace weft::engine::testing
