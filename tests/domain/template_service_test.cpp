#include "domain/template_service.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "domain/automation_flows.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace weft {
namespace {

// Reads only what the services need: flows present, run_mode, inputs (field_name, flow, persisted, required).
class FakeChecker final : public DefinitionChecker {
  public:
    Result<DefinitionInfo> Check(const json::value& definition) const override {
        const auto* o = definition.if_object();
        if (!o || !o->contains("flows")) return Error{ErrorCode::kInvalidDefinition, "invalid", {}, {{"flows", {"x"}}}};
        DefinitionInfo info;
        const auto& flows = o->at("flows").as_object();
        info.has_setup = flows.contains("setup");
        info.has_settings = flows.contains("settings");
        info.has_delete = flows.contains("delete");
        if (const auto* mode = o->if_contains("run_mode")) info.run_mode = std::string(mode->as_string());
        if (const auto* inputs = o->if_contains("inputs")) {
            for (const auto& in : inputs->as_array()) {
                DefinitionInput d;
                d.field_name = std::string(in.at("field_name").as_string());
                d.flow = std::string(in.at("flow").as_string());
                d.persisted = in.as_object().contains("persisted") && in.at("persisted").as_bool();
                d.required = in.as_object().contains("required") && in.at("required").as_bool();
                info.inputs.push_back(d);
            }
        }
        return info;
    }
    Result<json::object> ResolveInputs(std::string_view definition, std::string_view flow, const json::object& given,
                                       const json::object& persisted) const override {
        auto info = Check(*ParseJson(definition));
        json::object out = persisted;
        for (const auto& [k, v] : given) out[k] = v;
        FieldErrors faults;
        for (const auto& in : info->inputs) {
            if (in.required && in.flow == flow && !out.contains(in.field_name)) {
                faults["inputs." + in.field_name].push_back("is required");
            }
        }
        if (!faults.empty()) return Error::Validation(std::move(faults));
        return out;
    }
};

constexpr const char* kWithFlows =
    R"({"inputs":[{"field_name":"region","flow":"setup","persisted":true,"required":true}],)"
    R"("flows":{"start":[],"setup":[],"delete":[]}})";

class TemplateServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Partner p;
        p.guid = NewGuid(clock_.Now());
        p.name = "P";
        p.limits.queue_cap = 2;
        partner_ = *store_.CreatePartner(p);
        Account a;
        a.partner_id = partner_.app_id;
        a.guid = NewGuid(clock_.Now());
        a.externalid = "a";
        a.name = "a";
        account_ = *store_.CreateAccount(a, std::nullopt);
    }

    Template MakeTemplate(const char* definition) {
        TemplateInput in;
        in.name = "crm";
        in.definition = *ParseJson(definition);
        auto t = templates_.Create(partner_.app_id, in);
        EXPECT_TRUE(t.ok());
        return *t;
    }

    std::int64_t QueuedRuns() {
        std::int64_t n = 0;
        auto page = store_.ListAutomations(partner_.app_id, account_.id, {0, 100});
        for (const auto& b : page->items) n += store_.ListRuns(partner_.app_id, b.id, {}, {0, 100})->total;
        return n;
    }

    testing::TempDir dir_;
    testing::ManualClock clock_;
    SqliteStore store_{dir_.File("weft.db"), 1, true};
    FakeChecker checker_;
    RunEvents events_;
    RunService runs_{store_, clock_, checker_, events_};
    AutomationService automations_{store_, clock_, checker_};
    TemplateService templates_{store_, clock_, checker_, runs_};
    AutomationFlows flows_{store_, automations_, runs_};
    Partner partner_;
    Account account_;
};

TEST_F(TemplateServiceTest, OnlyADefinitionChangeMakesANewVersion) {
    Template t = MakeTemplate(R"({"flows":{"start":[]}})");
    TemplateInput same;
    same.definition = *ParseJson(R"({"flows":{"start":[]}})");
    same.description = "text";
    auto unchanged = templates_.Update(partner_.app_id, t, same);
    ASSERT_TRUE(unchanged.ok());
    EXPECT_EQ(unchanged->version, 1);
    TemplateInput changed;
    changed.definition = *ParseJson(R"({"flows":{"start":[],"setup":[]}})");
    auto v2 = templates_.Update(partner_.app_id, *unchanged, changed);
    ASSERT_TRUE(v2.ok());
    EXPECT_EQ(v2->version, 2);
    EXPECT_EQ(templates_.Find(partner_.app_id, t.guid, 1)->definition, R"({"flows":{"start":[]}})");
}

TEST_F(TemplateServiceTest, InstallQueuesSetupAndPreventDuplicatesReusesTheEqualInstance) {
    Template t = MakeTemplate(kWithFlows);
    InstallRequest req;
    req.inputs["region"] = "eu";
    auto first = templates_.Install(partner_, account_, t, req);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(first->created);
    ASSERT_EQ(first->setup_runs.size(), 1u);
    EXPECT_EQ(first->setup_runs[0].flow, "setup");
    EXPECT_EQ(first->setup_runs[0].context, "setup");
    EXPECT_EQ(first->automation.persisted_inputs, R"({"region":"eu"})");
    EXPECT_FALSE(first->automation.setup_complete);

    req.prevent_duplicates = true;
    auto again = templates_.Install(partner_, account_, t, req);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->automation.guid, first->automation.guid);

    InstallRequest missing;
    auto refused = templates_.Install(partner_, account_, t, missing);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().fields.count("inputs.region"), 1u);
}

TEST_F(TemplateServiceTest, InstallRefusedByTheQueueCapLeavesNothing) {
    Template t = MakeTemplate(kWithFlows);
    InstallRequest req;
    req.inputs["region"] = "eu";
    ASSERT_TRUE(templates_.Install(partner_, account_, t, req).ok());
    ASSERT_TRUE(templates_.Install(partner_, account_, t, req).ok());  // queue cap 2 reached (nothing runs here)
    auto full = templates_.Install(partner_, account_, t, req);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, ErrorCode::kQueueFull);
    EXPECT_EQ(store_.ListAutomations(partner_.app_id, account_.id, {0, 100})->total, 2);
    EXPECT_EQ(QueuedRuns(), 2);
}

TEST_F(TemplateServiceTest, DeleteQueuesTheDeleteFlowOrRemovesAtOnce) {
    Template t = MakeTemplate(kWithFlows);
    InstallRequest req;
    req.inputs["region"] = "eu";
    auto installed = templates_.Install(partner_, account_, t, req);
    ASSERT_TRUE(installed.ok());
    auto pending = flows_.Delete(partner_, account_, installed->automation, false);
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].flow, "delete");
    EXPECT_TRUE(store_.FindAutomation(partner_.app_id, account_.id, installed->automation.guid).ok())
        << "kept until its Delete run finishes";

    auto forced = flows_.Delete(partner_, account_, installed->automation, true);
    ASSERT_TRUE(forced.ok());
    EXPECT_TRUE(forced->empty());
    EXPECT_EQ(store_.FindAutomation(partner_.app_id, account_.id, installed->automation.guid).error().code,
              ErrorCode::kNotFound);
}

TEST_F(TemplateServiceTest, PushRefusesAnAutomationOfAnotherTemplate) {
    Template t = MakeTemplate(R"({"flows":{"start":[]}})");
    Template other = MakeTemplate(R"({"flows":{"start":[]}})");
    auto installed = templates_.Install(partner_, account_, t, {});
    ASSERT_TRUE(installed.ok());
    auto r = templates_.Push(partner_.app_id, installed->automation, other);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace weft
