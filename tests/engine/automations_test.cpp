// Whole automations, table-driven: tests/engine/automations.json lists definitions, inputs, the
// answers to their effects, and the expected status, output, effects and block log.

#include "engine/engine.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

struct Case {
    std::string name;
    json::object spec;
};

std::vector<Case> LoadCases() {
    auto doc = ParseJson(ReadSourceFile("tests/engine/automations.json"));
    std::vector<Case> out;
    if (!doc.ok() || !doc->is_array()) {
        ADD_FAILURE() << "tests/engine/automations.json is missing or not a JSON list";
        return out;
    }
    for (const auto& c : doc->get_array()) out.push_back({std::string(c.at("name").get_string()), c.get_object()});
    return out;
}

std::string Describe(const Effect& e) {
    if (const auto* h = std::get_if<HttpRequestEffect>(&e)) {
        return h->method + " " + h->url + (h->body.empty() ? "" : " " + h->body);
    }
    if (const auto* c = std::get_if<ConnectorEffect>(&e)) return "connector " + c->connector + "." + c->endpoint;
    if (const auto* s = std::get_if<SleepEffect>(&e)) {
        return std::string(s->retry_delay ? "retry-sleep " : "sleep ") + std::to_string((s->until - kTestNow) / 1000);
    }
    const auto& call = std::get<CallAutomationEffect>(e);
    return "call " + call.automation + " " + S(call.inputs);
}

EffectResult Answer(const json::value& r) {
    const auto& o = r.get_object();
    if (const auto* call = o.if_contains("call")) return CallResult{true, *call, {}};
    if (const auto* failed = o.if_contains("call_error"))
        return CallResult{false, nullptr, std::string(failed->get_string())};
    if (const auto* err = o.if_contains("error")) {
        return HttpResult{std::nullopt,
                          err->get_string() == "timeout" ? TransportError::kTimeout : TransportError::kNetwork,
                          std::string(err->get_string()), std::nullopt, std::nullopt};
    }
    HttpResponse resp;
    resp.status = static_cast<int>(o.at("status").as_int64());
    if (const auto* headers = o.if_contains("headers")) {
        for (const auto& kv : headers->get_object()) resp.headers.emplace_back(kv.key(), kv.value().get_string());
    }
    if (const auto* body = o.if_contains("body")) {
        resp.body = body->is_string() ? std::string(body->get_string()) : S(*body);
        if (!body->is_string()) resp.headers.emplace_back("Content-Type", "application/json");
    }
    return HttpResult{std::move(resp), TransportError::kNone, {}, std::nullopt, std::nullopt};
}

class AutomationsTest : public ::testing::TestWithParam<Case> {};

TEST_P(AutomationsTest, RunsAsExpected) {
    const auto& spec = GetParam().spec;
    Harness h;
    auto def = ParseDefinition(spec.at("definition"));
    ASSERT_TRUE(def.ok()) << FaultsText(def.error());
    h.def = def.value();
    std::vector<json::value> answers;
    if (const auto* r = spec.if_contains("responses")) answers.assign(r->get_array().begin(), r->get_array().end());
    std::size_t next = 0;
    h.respond = [&](const Effect& e) -> EffectResult {
        if (std::holds_alternative<SleepEffect>(e)) return SleepDone{};
        if (next < answers.size()) return Answer(answers[next++]);
        return Harness::DefaultResponse(e);
    };
    json::object inputs;
    if (const auto* in = spec.if_contains("inputs")) inputs = in->get_object();
    std::string flow = "start";
    if (const auto* f = spec.if_contains("flow")) flow = std::string(f->get_string());
    json::value start = json::object{};
    if (const auto* st = spec.if_contains("start")) start = *st;
    auto& state = h.Run(inputs, flow, start);

    const auto& expect = spec.at("expect").get_object();
    EXPECT_EQ(RunStatusName(state.status), expect.at("status").get_string());
    if (const auto* out = expect.if_contains("output")) {
        EXPECT_EQ(S(state.output), S(*out));
    }
    if (const auto* err = expect.if_contains("error")) {
        ASSERT_TRUE(state.error.has_value());
        EXPECT_EQ(state.error->message, err->get_string());
    }
    if (const auto* status = expect.if_contains("response_status")) {
        EXPECT_EQ(state.response_status.value_or(0), status->as_int64());
    }
    if (const auto* logs = expect.if_contains("logs")) {
        std::string want;
        for (const auto& l : logs->get_array()) want += std::string(l.get_string()) + " ";
        if (!want.empty()) want.pop_back();
        EXPECT_EQ(h.LogSummary(), want);
    }
    if (const auto* effects = expect.if_contains("effects")) {
        std::vector<std::string> got, want;
        for (const auto& e : h.effects) got.push_back(Describe(e));
        for (const auto& e : effects->get_array()) want.emplace_back(e.get_string());
        EXPECT_EQ(got, want);
    }
    if (const auto* log_inputs = expect.if_contains("log_inputs")) {
        for (const auto& kv : log_inputs->get_object()) {
            bool found = false;
            for (const auto& l : h.logs) {
                if (l.block_id == kv.key()) {
                    EXPECT_EQ(S(l.input), S(kv.value())) << kv.key();
                    found = true;
                    break;
                }
            }
            EXPECT_TRUE(found) << "no log entry for " << kv.key();
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, AutomationsTest, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                             std::string name = p.param.name;
                             for (char& c : name) {
                                 if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
                             }
                             return name;
                         });

}  // namespace
}  // namespace weft::engine::testing
