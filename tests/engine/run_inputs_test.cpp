#include "engine/run_inputs.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

std::shared_ptr<const Definition> Load(std::string_view text) {
    auto d = ParseDefinitionText(text);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : FaultsText(d.error()));
    return d.ok() ? d.value() : nullptr;
}

constexpr std::string_view kDef = R"({"inputs": [
    {"field_name": "email", "type": "string", "required": true},
    {"field_name": "limit", "type": "integer", "default": 10},
    {"field_name": "ratio", "type": "number"},
    {"field_name": "on", "type": "boolean"},
    {"field_name": "filter", "type": "object"},
    {"field_name": "ids", "type": "list"},
    {"field_name": "ds", "type": "datasource", "connector": "slack"},
    {"field_name": "channel", "type": "string", "flow": "setup", "required": true, "persisted": true}],
  "flows": {"start": [], "setup": []}})";

TEST(RunInputsTest, MergesDefaultsPersistedAndGivenValues) {
    auto def = Load(kDef);
    ASSERT_TRUE(def);
    auto r = ResolveRunInputs(*def, "start",
                              J(R"({"email": "a@b.c", "ratio": "0.5", "on": "true", "extra": [1],
                                    "ds": "0190f5a4-5e2b-7c3d-8e4f-123456789abc"})")
                                  .get_object(),
                              J(R"({"channel": "general", "email": "old@b.c"})").get_object());
    ASSERT_TRUE(r.ok()) << FaultsText(r.error());
    EXPECT_EQ(json::value(r.value()), J(R"({"email": "a@b.c", "ratio": 0.5, "on": true, "extra": [1],
        "ds": "0190f5a4-5e2b-7c3d-8e4f-123456789abc", "limit": 10, "channel": "general"})"));
}

TEST(RunInputsTest, RequiredAndTypeFaults) {
    auto def = Load(kDef);
    ASSERT_TRUE(def);
    auto r = ResolveRunInputs(
        *def, "start",
        J(R"({"limit": 2.5, "ratio": "lots", "on": 1, "filter": [], "ids": {}, "ds": "x"})").get_object());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
    const auto& f = r.error().fields;
    EXPECT_EQ(f.at("inputs.email"), std::vector<std::string>{"is required"});
    EXPECT_EQ(f.at("inputs.limit"), std::vector<std::string>{"must be an integer, not a number"});
    EXPECT_EQ(f.at("inputs.ratio"), std::vector<std::string>{"must be a number, not a string"});
    EXPECT_EQ(f.at("inputs.on"), std::vector<std::string>{"must be true or false, not a number"});
    EXPECT_EQ(f.at("inputs.filter"), std::vector<std::string>{"must be an object, not a list"});
    EXPECT_EQ(f.at("inputs.ids"), std::vector<std::string>{"must be a list, not an object"});
    EXPECT_EQ(f.at("inputs.ds"), std::vector<std::string>{"must be a datasource guid, not a string"});
    // The setup flow's required input is not required to start a run.
    EXPECT_EQ(f.count("inputs.channel"), 0u);
}

TEST(RunInputsTest, SetupFlowRequiresItsOwnInputs) {
    auto def = Load(kDef);
    ASSERT_TRUE(def);
    auto r = ResolveRunInputs(*def, "setup", {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().fields.count("inputs.channel"), 1u);
    EXPECT_EQ(r.error().fields.count("inputs.email"), 0u);
}

}  // namespace
}  // namespace weft::engine::testing
