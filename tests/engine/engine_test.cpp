#include "engine/engine.h"

#include "engine/conditions.h"
#include "test_support.h"

namespace weft::engine::testing {
namespace {

std::string Def(std::string_view blocks, std::string_view variables = "[]") {
    return R"({"variables": )" + std::string(variables) + R"(, "flows": {"start": [)" + std::string(blocks) + "]}}";
}

constexpr std::string_view kAllVariables = R"([{"name": "s", "type": "string"}, {"name": "n", "type": "number"},
    {"name": "l", "type": "list"}, {"name": "o", "type": "object"}, {"name": "t", "type": "table"}])";

TEST(EngineTest, NoOutputBlockGivesEmptyObject) {
    Harness h;
    h.Load(Def(""));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, json::object{});
}

TEST(EngineTest, OutputReplaceKeepsTheLastValue) {
    Harness h;
    h.Load(Def(R"({"id": "a", "type": "output", "value": "{$.inputs.x}"},
                  {"id": "b", "type": "output", "value": {"x": "{$.inputs.x}", "y": "{$.a}"}})"));
    auto& s = h.Run(json::object{{"x", 7}});
    EXPECT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, J(R"({"x": 7, "y": 7})"));
    EXPECT_EQ(s.outputs.get_object()["a"], json::value(7));
}

TEST(EngineTest, OutputAppendCollectsAList) {
    Harness h;
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
                    {"id": "o", "type": "output", "mode": "append", "value": "{uppercase: $.l.item}",
                     "status": "{add: 200, 1}", "headers": {"X-Count": "{$.l.count}"}}]})"));
    auto& s = h.Run(json::object{{"items", J(R"(["a", "b"])")}});
    EXPECT_EQ(s.output, J(R"(["A", "B"])"));
    EXPECT_EQ(s.response_status, 201);
    EXPECT_EQ(s.response_headers, J(R"({"X-Count": "2"})").get_object());
}

TEST(EngineTest, OutputRejectsABadStatus) {
    Harness h;
    h.Load(Def(R"({"id": "o", "type": "output", "value": 1, "status": "{$.inputs.code}"})"));
    auto& s = h.Run(json::object{{"code", "teapot"}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_NE(s.error->message.find("not an HTTP status code"), std::string::npos);
    EXPECT_EQ(s.error->block_id, "o");
}

TEST(EngineTest, VariableOperations) {
    Harness h;
    h.Load(Def(R"(
        {"id": "v1", "type": "variable", "variable": "s", "operations": [{"op": "set", "value": "{add: 1, 2}"}]},
        {"id": "v2", "type": "variable", "variable": "n", "operations": [{"op": "set", "value": "2.5"},
                                                                         {"op": "increment"},
                                                                         {"op": "increment", "value": -0.5}]},
        {"id": "v3", "type": "variable", "variable": "l", "operations": [{"op": "append", "value": 1},
                                                                         {"op": "append", "value": [2]},
                                                                         {"op": "set", "value": "{$.variables.l}"}]},
        {"id": "v4", "type": "variable", "variable": "o", "operations": [{"op": "set", "value": {"a": 1}},
                                                                         {"op": "merge", "value": {"b": 2, "a": 3}}]},
        {"id": "v5", "type": "variable", "variable": "t", "operations": [{"op": "append", "value": ["r1", 1]},
                                                                         {"op": "append", "value": ["r2", 2]}]},
        {"id": "v6", "type": "variable", "variable": "s", "operations": [{"op": "clear"}]},
        {"id": "out", "type": "output", "value": "{$.variables}"})",
               kAllVariables));
    auto& s = h.Run();
    ASSERT_EQ(s.status, RunStatus::kFinished) << s.error->message;
    EXPECT_EQ(s.output, J(R"({"s": "", "n": 3, "l": [1, [2]], "o": {"a": 3, "b": 2}, "t": [["r1", 1], ["r2", 2]]})"));
    EXPECT_EQ(s.outputs.get_object()["v1"], json::value("3"));
    EXPECT_EQ(s.outputs.get_object()["v4"], J(R"({"a": 3, "b": 2})"));
}

TEST(EngineTest, VariableTypeErrorsAtRunTime) {
    struct Case {
        std::string var;
        std::string op;
        std::string value;
        std::string message;
    };
    for (const auto& c : std::vector<Case>{
             {"l", "set", R"("text")", "cannot set list variable 'l' to a string"},
             {"o", "set", "[1]", "cannot set object variable 'o' to a list"},
             {"n", "set", R"("abc")", "cannot set number variable 'n' to a string"},
             {"t", "set", "[1, 2]", "a table is a list of lists"},
             {"t", "append", "3", "a row appended to table 't' must be a list"},
             {"o", "merge", "[1]", "merge into object 'o' needs an object"},
             {"n", "increment", R"("x")", "increment of 'n' needs a number"},
         }) {
        SCOPED_TRACE(c.var + " " + c.op);
        Harness h;
        h.Load(Def(R"({"id": "v", "type": "variable", "variable": ")" + c.var + R"(", "operations": [{"op": ")" + c.op +
                       R"(", "value": )" + c.value + "}]}",
                   kAllVariables));
        auto& s = h.Run();
        EXPECT_EQ(s.status, RunStatus::kFailed);
        ASSERT_TRUE(s.error.has_value());
        EXPECT_NE(s.error->message.find(c.message), std::string::npos) << s.error->message;
    }
}

TEST(EngineTest, ConditionOperators) {
    struct Case {
        ConditionOp op;
        const char* left;
        const char* right;
        bool expected;
    };
    for (const auto& c : std::vector<Case>{
             {ConditionOp::kEquals, "5", R"("5")", true},
             {ConditionOp::kEquals, R"("a")", R"("b")", false},
             {ConditionOp::kEquals, R"({"a": [1]})", R"({"a": [1]})", true},
             {ConditionOp::kNotEquals, "1", "2", true},
             {ConditionOp::kGt, "10", "9", true},
             {ConditionOp::kGt, R"("10")", "9", true},
             {ConditionOp::kGte, "3", "3", true},
             {ConditionOp::kLt, R"("2024-01-01")", R"("2024-02-01")", true},
             {ConditionOp::kLte, "4", "3", false},
             {ConditionOp::kContains, R"("automation")", R"("mat")", true},
             {ConditionOp::kContains, "[1, 2]", R"("2")", true},
             {ConditionOp::kContains, R"({"k": 1})", R"("k")", true},
             {ConditionOp::kNotContains, "[1, 2]", "3", true},
             {ConditionOp::kStartsWith, R"("weft")", R"("we")", true},
             {ConditionOp::kEndsWith, R"("weft")", R"("ft")", true},
             {ConditionOp::kIsEmpty, "[]", "null", true},
             {ConditionOp::kIsEmpty, "0", "null", false},
             {ConditionOp::kIsNotEmpty, R"("x")", "null", true},
             {ConditionOp::kIsTrue, "true", "null", true},
             {ConditionOp::kIsTrue, R"("false")", "null", false},
             {ConditionOp::kIsFalse, "0", "null", true},
             {ConditionOp::kMatches, R"("order-1234")", R"("^order-[0-9]+$")", true},
             {ConditionOp::kMatches, R"("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")", R"("(a+)+$")", false},
             {ConditionOp::kMatches, R"("x")", R"("^y")", false},
         }) {
        SCOPED_TRACE(std::string(ConditionOpName(c.op)) + " " + c.left + " " + c.right);
        Condition cond;
        cond.op = c.op;
        auto r = ApplyCondition(cond, J(c.left), J(c.right));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.value(), c.expected);
    }
    Condition bad;
    bad.op = ConditionOp::kMatches;
    EXPECT_FALSE(ApplyCondition(bad, json::value("a"), json::value("(")).ok());
}

TEST(EngineTest, ConditionBranches) {
    Harness h;
    h.Load(Def(R"({"id": "c", "type": "condition", "match": "all",
                   "conditions": [{"left": "{$.inputs.n}", "op": "gt", "right": 5}, {"left": "{$.inputs.n}", "op": "lt", "right": 10}],
                   "then": [{"id": "yes", "type": "output", "value": "then {$.c}"}],
                   "else": [{"id": "no", "type": "output", "value": "else {$.c}"}]},
                  {"id": "any", "type": "condition", "match": "any",
                   "conditions": [{"left": 1, "op": "equals", "right": 2}, {"left": "{$.inputs.n}", "op": "is_not_empty"}],
                   "then": [{"id": "tail", "type": "output", "mode": "append", "value": "{$.yes}{$.no}"}]})"));
    EXPECT_EQ(h.Run(json::object{{"n", 7}}).output, J(R"(["then true"])"));
    Harness h2;
    h2.Load(Def(R"({"id": "c", "type": "condition", "conditions": [{"left": "{$.inputs.n}", "op": "gt", "right": 5}],
                    "then": [{"id": "yes", "type": "output", "value": "then"}],
                    "else": [{"id": "no", "type": "output", "value": "else {$.c}"}]})"));
    EXPECT_EQ(h2.Run(json::object{{"n", 1}}).output, json::value("else false"));
    ASSERT_FALSE(h2.logs.empty());
    EXPECT_EQ(h2.logs[0].input,
              J(R"({"match": "all", "conditions": [{"left": 1, "op": "gt", "right": 5, "result": false}]})"));
}

TEST(EngineTest, LoopsOverListsAndObjects) {
    Harness h;
    h.Load(Def(R"(
        {"id": "outer", "type": "loop", "over": "{$.inputs.rows}", "do": [
            {"id": "inner", "type": "loop", "over": "{$.outer.item}", "do": [
                {"id": "o", "type": "output", "mode": "append",
                 "value": "{$.outer.index}.{$.inner.index}/{$.inner.count}:{$.inner.item.key}={$.inner.item.value}"}]}]},
        {"id": "after", "type": "output", "mode": "append", "value": "{$.outer}"})"));
    auto& s = h.Run(json::object{{"rows", J(R"([{"a": 1, "b": 2}, {"c": 3}])")}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, J(R"(["0.0/2:a=1", "0.1/2:b=2", "1.0/1:c=3", {"count": 2}])"));
    // Log entries carry the innermost loop's iteration.
    std::vector<std::optional<std::int64_t>> iterations;
    for (const auto& l : h.logs) {
        if (l.block_id == "o") iterations.push_back(l.iteration);
    }
    EXPECT_EQ(iterations, (std::vector<std::optional<std::int64_t>>{0, 1, 0}));
}

TEST(EngineTest, ExitLoopAndMaxIterations) {
    Harness h;
    h.Load(Def(R"(
        {"id": "l", "type": "loop", "over": "{$.inputs.items}", "do": [
            {"id": "c", "type": "condition", "conditions": [{"left": "{$.l.item}", "op": "equals", "right": "stop"}],
             "then": [{"id": "x", "type": "exit_loop"}]},
            {"id": "o", "type": "output", "mode": "append", "value": "{$.l.item}"}]},
        {"id": "capped", "type": "loop", "over": "{$.inputs.items}", "max_iterations": 2, "do": [
            {"id": "o2", "type": "output", "mode": "append", "value": "capped {$.capped.index}"}]},
        {"id": "counts", "type": "output", "mode": "append", "value": "{$.l.count} {$.capped.count}"},
        {"id": "empty", "type": "loop", "over": "{$.inputs.nothing}", "do": [{"id": "never", "type": "stop"}]},
        {"id": "last", "type": "output", "mode": "append", "value": "{$.empty.count}"})"));
    auto& s = h.Run(json::object{{"items", J(R"(["a", "b", "stop", "d"])")}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, J(R"(["a", "b", "capped 0", "capped 1", "3 2", 0])"));
}

TEST(EngineTest, LoopOverAScalarFails) {
    Harness h;
    h.Load(Def(R"({"id": "l", "type": "loop", "over": "{$.inputs.x}", "do": [{"id": "o", "type": "stop"}]})"));
    auto& s = h.Run(json::object{{"x", "text"}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_NE(s.error->message.find("a loop needs a list or an object, got a string"), std::string::npos);
}

TEST(EngineTest, HttpBlockIssuesAnEffectAndParsesTheResponse) {
    Harness h;
    h.Load(Def(R"({"id": "get", "type": "http", "method": "post", "url": "https://api.example.com/u/{$.inputs.id}",
                   "query": {"q": "a b", "tags": ["x", "y"], "skip": null}, "headers": {"X-Token": "{$.inputs.token}"},
                   "body": {"id": "{$.inputs.id}"}, "datasource": "{$.inputs.ds}", "timeout_ms": 1500},
                  {"id": "out", "type": "output", "value": "{$.get.body.url}"})"));
    auto& s = h.Run(json::object{{"id", 42}, {"token", "t0k"}, {"ds", "ds-guid"}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    ASSERT_EQ(h.effects.size(), 1u);
    const auto& e = std::get<HttpRequestEffect>(h.effects[0]);
    EXPECT_EQ(e.method, "POST");
    EXPECT_EQ(e.url, "https://api.example.com/u/42?q=a%20b&tags=x&tags=y");
    EXPECT_EQ(e.headers, (HeaderList{{"X-Token", "t0k"}, {"Content-Type", "application/json"}}));
    EXPECT_EQ(e.body, R"({"id":42})");
    EXPECT_EQ(e.datasource, "ds-guid");
    EXPECT_EQ(e.timeout_ms, 1500);
    EXPECT_EQ(e.block_id, "get");
    EXPECT_EQ(s.output, json::value("https://api.example.com/u/42?q=a%20b&tags=x&tags=y"));
    EXPECT_EQ(s.outputs.get_object()["get"].get_object()["status"], json::value(200));
    ASSERT_EQ(h.logs.size(), 2u);
    EXPECT_EQ(h.logs[0].input.get_object().at("url"), json::value(e.url));
    EXPECT_EQ(h.logs[0].status, "ok");
}

HttpResult Response(int status, std::string body = "", HeaderList headers = {}) {
    return HttpResult{HttpResponse{status, std::move(headers), std::move(body)},
                      TransportError::kNone,
                      {},
                      std::nullopt,
                      std::nullopt};
}

TEST(EngineTest, NonSuccessStatusIsAnErrorUnlessAccepted) {
    for (const auto& [accept, on_error, status] : std::vector<std::tuple<std::string, std::string, RunStatus>>{
             {"[]", "stop", RunStatus::kFailed},
             {"[404]", "stop", RunStatus::kFinished},
             {"[]", "warning", RunStatus::kFinishedWithWarnings},
             {"[]", "ignore", RunStatus::kFinished}}) {
        SCOPED_TRACE(accept + " " + on_error);
        Harness h;
        h.respond = [](const Effect&) -> EffectResult { return Response(404, "missing"); };
        h.Load(Def(R"({"id": "get", "type": "http", "url": "https://x", "accept_status": )" + accept +
                   R"(, "on_error": ")" + on_error + R"("},
                      {"id": "out", "type": "output", "value": "{$.get.status} {$.get.body}"})"));
        auto& s = h.Run();
        EXPECT_EQ(s.status, status);
        if (status == RunStatus::kFailed) {
            EXPECT_EQ(s.error->message, "the server answered HTTP 404");
            EXPECT_EQ(s.error->block_id, "get");
            EXPECT_EQ(h.LogSummary(), "get:failed");
        } else {
            EXPECT_EQ(s.output, json::value("404 missing"));
        }
    }
}

TEST(EngineTest, ResponseModes) {
    for (const auto& [mode, content_type, body, expected] :
         std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
             {"auto", "application/json; charset=utf-8", R"({"a":1})", R"({"a":1})"},
             {"auto", "text/plain", R"({"a":1})", R"("{\"a\":1}")"},
             {"auto", "application/json", "not json", R"("not json")"},
             {"json", "text/plain", "[1,2]", "[1,2]"},
             {"text", "application/json", "[1,2]", R"("[1,2]")"},
         }) {
        SCOPED_TRACE(mode + " " + content_type);
        Harness h;
        const std::string ct = content_type;
        const std::string b = body;
        h.respond = [ct, b](const Effect&) -> EffectResult { return Response(200, b, {{"Content-Type", ct}}); };
        h.Load(Def(R"({"id": "get", "type": "http", "url": "https://x", "response": ")" + mode + R"("},
                      {"id": "out", "type": "output", "value": "{$.get.body}"})"));
        auto& s = h.Run();
        ASSERT_EQ(s.status, RunStatus::kFinished);
        EXPECT_EQ(s.output, J(expected));
    }
    Harness h;
    h.respond = [](const Effect&) -> EffectResult { return Response(200, "nope"); };
    h.Load(Def(R"({"id": "get", "type": "http", "url": "https://x", "response": "json"})"));
    EXPECT_EQ(h.Run().error->message, "the response body is not valid JSON");
}

TEST(EngineTest, RetriesTransientFaultsWithBackoff) {
    Harness h;
    int calls = 0;
    h.respond = [&calls](const Effect& e) -> EffectResult {
        if (std::holds_alternative<SleepEffect>(e)) return SleepDone{};
        ++calls;
        if (calls == 1)
            return HttpResult{std::nullopt, TransportError::kNetwork, "connection reset", std::nullopt, std::nullopt};
        if (calls == 2) return Response(503);
        if (calls == 3) return Response(429, "", {{"Retry-After", "30"}});
        return Response(200, "ok");
    };
    h.Load(Def(R"({"id": "get", "type": "http", "url": "https://x",
                   "retry": {"max_attempts": 4, "backoff": "exponential", "delay_ms": 1000, "max_delay_ms": 3000}},
                  {"id": "out", "type": "output", "value": "{$.get.body}"})"));
    auto& s = h.Run();
    ASSERT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, json::value("ok"));
    ASSERT_EQ(h.effects.size(), 7u);
    std::vector<Micros> waits;
    Micros now = kTestNow;
    for (const auto& e : h.effects) {
        if (const auto* sl = std::get_if<SleepEffect>(&e)) {
            EXPECT_TRUE(sl->retry_delay);
            waits.push_back(sl->until - now);
            now = sl->until;
        }
    }
    // 1 s, then 2 s (exponential), then Retry-After 30 s beats the 3 s cap.
    EXPECT_EQ(waits, (std::vector<Micros>{1000000, 2000000, 30000000}));
    EXPECT_EQ(std::get<HttpRequestEffect>(h.effects[6]).attempt, 4);
    EXPECT_EQ(h.LogSummary(), "get:retrying get:retrying get:retrying get:ok out:ok");
    EXPECT_EQ(h.logs[3].attempt, 4);
    EXPECT_EQ(h.logs[0].error, "network error: connection reset");
}

TEST(EngineTest, GivesUpAfterMaxAttemptsAndNeverRetriesClientErrors) {
    Harness h;
    h.respond = [](const Effect& e) -> EffectResult {
        if (std::holds_alternative<SleepEffect>(e)) return SleepDone{};
        return HttpResult{std::nullopt, TransportError::kTimeout, "after 60000 ms", std::nullopt, std::nullopt};
    };
    h.Load(Def(R"({"id": "get", "type": "http", "url": "https://x", "retry": {"max_attempts": 2, "delay_ms": 10}})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "the request timed out: after 60000 ms");
    EXPECT_EQ(h.LogSummary(), "get:retrying get:failed");

    Harness h2;
    h2.respond = [](const Effect&) -> EffectResult { return Response(400); };
    h2.Load(Def(R"({"id": "get", "type": "http", "url": "https://x", "retry": {"max_attempts": 5}})"));
    EXPECT_EQ(h2.Run().status, RunStatus::kFailed);
    EXPECT_EQ(h2.effects.size(), 1u);

    Harness h3;
    h3.respond = [](const Effect&) -> EffectResult {
        return HttpResult{std::nullopt, TransportError::kBlocked, "private address", std::nullopt, std::nullopt};
    };
    h3.Load(Def(R"({"id": "get", "type": "http", "url": "http://127.0.0.1", "retry": {"max_attempts": 5}})"));
    EXPECT_EQ(h3.Run().error->message, "the request was refused: private address");
    EXPECT_EQ(h3.effects.size(), 1u);
}

TEST(EngineTest, HttpBlockChecksTemplatedUrlAndMethod) {
    Harness h;
    h.Load(Def(R"({"id": "get", "type": "http", "method": "{$.inputs.m}", "url": "{$.inputs.u}"})"));
    EXPECT_EQ(h.Run(json::object{{"m", "get"}, {"u", "file:///etc/passwd"}}).error->message,
              "url: 'file:///etc/passwd' is not an http:// or https:// URL");
    EXPECT_EQ(h.Run(json::object{{"m", "brew"}, {"u", "https://x"}}).error->message,
              "method: 'BREW' is not an HTTP method");
    EXPECT_EQ(h.Run(json::object{{"m", "delete"}, {"u", "https://x"}}).status, RunStatus::kFinished);
    EXPECT_TRUE(h.effects.size() == 1u);
}

TEST(EngineTest, ConnectorBlock) {
    Harness h;
    h.Load(Def(R"({"id": "send", "type": "connector", "connector": "slack", "endpoint": "post_message",
                   "datasource": "ds-1", "params": {"text": "hi {$.inputs.who}"}},
                  {"id": "out", "type": "output", "value": "{$.send}"})"));
    auto& s = h.Run(json::object{{"who", "Ada"}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    const auto& e = std::get<ConnectorEffect>(h.effects.at(0));
    EXPECT_EQ(e.connector, "slack");
    EXPECT_EQ(e.endpoint, "post_message");
    EXPECT_EQ(e.datasource, "ds-1");
    EXPECT_EQ(e.params, J(R"({"text": "hi Ada"})").get_object());
    EXPECT_EQ(s.output, json::value("mapped"));
}

TEST(EngineTest, CallAutomation) {
    Harness h;
    h.Load(Def(R"({"id": "sub", "type": "call_automation", "automation": "child-{$.inputs.n}",
                   "inputs": {"x": "{$.inputs.n}"}, "async": false},
                  {"id": "out", "type": "output", "value": "{$.sub}"})"));
    auto& s = h.Run(json::object{{"n", 2}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    const auto& e = std::get<CallAutomationEffect>(h.effects.at(0));
    EXPECT_EQ(e.automation, "child-2");
    EXPECT_EQ(e.inputs, J(R"({"x": 2})").get_object());
    EXPECT_FALSE(e.async);
    EXPECT_EQ(e.depth, 1);
    EXPECT_EQ(s.output, J(R"({"called": "child-2"})"));

    Harness h2;
    h2.respond = [](const Effect&) -> EffectResult { return CallResult{false, nullptr, "no automation 'x'"}; };
    h2.Load(Def(R"({"id": "sub", "type": "call_automation", "automation": "x"})"));
    EXPECT_EQ(h2.Run().error->message, "the called automation failed: no automation 'x'");
}

TEST(EngineTest, SleepIsAnEffect) {
    Harness h;
    h.Load(Def(R"({"id": "nap", "type": "sleep", "seconds": "{$.inputs.s}"},
                  {"id": "zero", "type": "sleep", "seconds": 0},
                  {"id": "out", "type": "output", "value": "{date: now, 'H:i:s'}"})"));
    auto& s = h.Run(json::object{{"s", 90}});
    ASSERT_EQ(s.status, RunStatus::kFinished);
    ASSERT_EQ(h.effects.size(), 1u);
    EXPECT_EQ(std::get<SleepEffect>(h.effects[0]).until, kTestNow + 90 * 1000000LL);
    EXPECT_FALSE(std::get<SleepEffect>(h.effects[0]).retry_delay);
    EXPECT_EQ(s.output, json::value("13:47:00"));
    EXPECT_EQ(h.logs[0].duration_ms, 90000);

    Harness h2;
    h2.Load(Def(R"({"id": "nap", "type": "sleep", "seconds": "{$.inputs.s}"})"));
    auto& s2 = h2.Run(json::object{{"s", 3601}});
    EXPECT_EQ(s2.status, RunStatus::kFailed);
    EXPECT_NE(s2.error->message.find("from 0 to 3600"), std::string::npos);
}

TEST(EngineTest, ErrorAndStopBlocks) {
    Harness h;
    h.Load(Def(R"({"id": "warn", "type": "error", "message": "soft {$.inputs.x}", "stop": false},
                  {"id": "o", "type": "output", "value": 1},
                  {"id": "fail", "type": "error", "message": "hard {$.inputs.x}"},
                  {"id": "never", "type": "output", "value": 2})"));
    auto& s = h.Run(json::object{{"x", "!"}});
    EXPECT_EQ(s.status, RunStatus::kFailed);
    EXPECT_EQ(s.error->message, "hard !");
    EXPECT_EQ(s.error->block_id, "fail");
    EXPECT_EQ(s.output, json::value(1));
    EXPECT_EQ(h.LogSummary(), "warn:warning o:ok fail:failed");
    EXPECT_EQ(h.logs[0].error, "soft !");

    Harness h2;
    h2.Load(Def(R"({"id": "warn", "type": "error", "message": "soft", "stop": false},
                   {"id": "o", "type": "output", "value": 1},
                   {"id": "end", "type": "stop"},
                   {"id": "never", "type": "output", "value": 2})"));
    auto& s2 = h2.Run();
    EXPECT_EQ(s2.status, RunStatus::kFinishedWithWarnings);
    EXPECT_EQ(s2.output, json::value(1));

    Harness h3;
    h3.Load(Def(R"({"id": "ignored", "type": "error", "message": "x", "on_error": "ignore"},
                   {"id": "end", "type": "stop"})"));
    EXPECT_EQ(h3.Run().status, RunStatus::kFinished);
    EXPECT_EQ(h3.LogSummary(), "ignored:ignored end:ok");
}

TEST(EngineTest, DisabledBlocksAreSkipped) {
    Harness h;
    h.Load(Def(R"({"id": "off", "type": "error", "message": "x", "disabled": true},
                  {"id": "o", "type": "output", "value": "{$.off}"})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFinished);
    EXPECT_EQ(s.output, json::value(nullptr));
    EXPECT_EQ(h.LogSummary(), "o:ok");
    EXPECT_EQ(s.executed_blocks, 1);
}

TEST(EngineTest, ReferencesToStartRunAndInputs) {
    Harness h;
    h.Load(Def(R"({"id": "o", "type": "output",
                   "value": ["{$.start.body.a}", "{$.run.guid}", "{$.run.started_at}", "{$.inputs.'Your name'}"]})"));
    auto& s = h.Run(json::object{{"Your name", "Grace"}}, "start", J(R"({"method": "POST", "body": {"a": 1}})"));
    EXPECT_EQ(s.output, J(R"([1, "run-1", "2024-03-15T13:45:30.000000Z", "Grace"])"));
}

TEST(EngineTest, RunsOtherFlows) {
    Harness h;
    h.Load(R"({"flows": {"start": [{"id": "a", "type": "output", "value": "start"}],
                         "setup": [{"id": "b", "type": "output", "value": "setup"}]}})");
    EXPECT_EQ(h.Run({}, "setup").output, json::value("setup"));
    EXPECT_EQ(h.Run({}, "settings").output, json::object{});
}

TEST(EngineTest, StopRequestIsHonouredAtTheNextBoundary) {
    Harness h;
    h.Load(Def(R"({"id": "o", "type": "output", "value": 1},
                  {"id": "nap", "type": "sleep", "seconds": 60},
                  {"id": "o2", "type": "output", "value": 2})"));
    RunStart start;
    h.state = h.engine->StartRun(*h.def, start);
    auto step = h.engine->Step(*h.def, h.state);
    ASSERT_FALSE(step.done());
    EXPECT_TRUE(std::holds_alternative<SleepEffect>(*step.effect));
    // Asking again without an answer re-issues the same effect.
    auto again = h.engine->Step(*h.def, h.state);
    ASSERT_FALSE(again.done());
    EXPECT_TRUE(std::holds_alternative<SleepEffect>(*again.effect));
    h.state.RequestStop();
    EXPECT_TRUE(h.engine->Step(*h.def, h.state).done());
    EXPECT_EQ(h.state.status, RunStatus::kStopped);
    EXPECT_EQ(h.state.output, json::value(1));

    Harness h2;
    h2.Load(Def(R"({"id": "o", "type": "output", "value": 1})"));
    h2.state = h2.engine->StartRun(*h2.def, RunStart{});
    h2.state.RequestStop();
    EXPECT_TRUE(h2.engine->Step(*h2.def, h2.state).done());
    EXPECT_EQ(h2.state.status, RunStatus::kStopped);
    EXPECT_EQ(h2.state.executed_blocks, 0);
}

TEST(EngineTest, FormulaFailureFollowsOnError) {
    Harness h;
    h.Load(Def(R"({"id": "d", "type": "output", "value": "{divide: 1, 0}", "on_error": "warning"},
                  {"id": "o", "type": "output", "value": "after {$.d}"})"));
    auto& s = h.Run();
    EXPECT_EQ(s.status, RunStatus::kFinishedWithWarnings);
    EXPECT_EQ(s.output, json::value("after "));
    EXPECT_EQ(h.logs[0].error, "value: Formula 'divide': division by zero");
}

TEST(EngineTest, UuidAndClockAreInjected) {
    Harness h;
    h.Load(Def(R"({"id": "o", "type": "output", "value": "{uuid} {uuid} {date: now, 'U'}"})"));
    EXPECT_EQ(h.Run().output, json::value("uuid-1 uuid-2 1710510330"));
}

}  // namespace
}  // namespace weft::engine::testing

namespace weft::engine::testing {
namespace {

TEST(EngineResumeTest, UnansweredEffectsAreReissuedIncludingRetryDelays) {
    Harness h;
    h.Load(
        R"({"flows": {"start": [{"id": "get", "type": "http", "url": "https://x", "retry": {"max_attempts": 2}}]}})");
    h.state = h.engine->StartRun(*h.def, RunStart{});
    auto first = h.engine->Step(*h.def, h.state);
    ASSERT_TRUE(std::holds_alternative<HttpRequestEffect>(*first.effect));
    h.state.Resume(HttpResult{HttpResponse{503, {}, ""}, TransportError::kNone, {}, std::nullopt, std::nullopt});
    auto wait = h.engine->Step(*h.def, h.state);
    ASSERT_TRUE(std::holds_alternative<SleepEffect>(*wait.effect));
    auto wait_again = h.engine->Step(*h.def, h.state);
    ASSERT_FALSE(wait_again.done());
    ASSERT_TRUE(std::holds_alternative<SleepEffect>(*wait_again.effect));
    EXPECT_EQ(std::get<SleepEffect>(*wait_again.effect).until, std::get<SleepEffect>(*wait.effect).until);
    EXPECT_EQ(h.state.executed_blocks, 1);
    h.state.Resume(SleepDone{});
    auto retry = h.engine->Step(*h.def, h.state);
    ASSERT_TRUE(std::holds_alternative<HttpRequestEffect>(*retry.effect));
    EXPECT_EQ(std::get<HttpRequestEffect>(*retry.effect).attempt, 2);
    h.state.Resume(SleepDone{});  // the wrong kind of answer
    EXPECT_TRUE(h.engine->Step(*h.def, h.state).done());
    EXPECT_EQ(h.state.status, RunStatus::kFailed);
    EXPECT_NE(h.state.error->message.find("result of another kind"), std::string::npos);
}

}  // namespace
}  // namespace weft::engine::testing
