#include <gtest/gtest.h>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace weft {
namespace {

// Templates: versions kept, bundle members scoped to the partner, installed automations with free names and
// bundle links, and the run outcomes that act on automations (Setup complete, Delete flow removal).
class TemplateStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        partner_ = MakePartner("P");
        other_partner_ = MakePartner("Q");
        account_ = MakeAccount(partner_, "a");
        other_account_ = MakeAccount(other_partner_, "b");
    }

    PartnerId MakePartner(const std::string& name) {
        Partner p;
        p.guid = NewGuid(now_);
        p.name = name;
        return store_->CreatePartner(p)->app_id;
    }

    std::int64_t MakeAccount(PartnerId partner, const std::string& ext) {
        Account a;
        a.partner_id = partner;
        a.guid = NewGuid(now_);
        a.externalid = ext;
        a.name = ext;
        return store_->CreateAccount(a, std::nullopt)->id;
    }

    Template MakeTemplate(PartnerId partner, const std::string& name, std::vector<std::string> members = {}) {
        Template t;
        t.partner_id = partner;
        t.guid = NewGuid(now_);
        t.name = name;
        t.definition = R"({"v":1})";
        t.isbundle = !members.empty();
        t.sub_template_guids = std::move(members);
        t.created_at = t.updated_at = now_;
        auto created = store_->CreateTemplate(t);
        EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
        return created.ok() ? *created : t;
    }

    Automation Installed(std::int64_t account, const std::string& name, const std::string& template_guid) {
        Automation b;
        b.account_id = account;
        b.guid = NewGuid(now_);
        b.name = name;
        b.definition = "{}";
        b.execution_token = "t";
        b.template_guid = template_guid;
        b.template_version = 1;
        b.created_at = b.updated_at = now_;
        return b;
    }

    testing::TempDir dir_;
    std::unique_ptr<SqliteStore> store_ = std::make_unique<SqliteStore>(dir_.File("weft.db"), 2, true);
    Micros now_ = 1'795'851'521'000'000;
    PartnerId partner_ = 0, other_partner_ = 0;
    std::int64_t account_ = 0, other_account_ = 0;
};

TEST_F(TemplateStoreTest, EveryVersionIsKeptAndReadable) {
    Template t = MakeTemplate(partner_, "crm");
    EXPECT_EQ(t.version, 1);
    t.version = 2;
    t.definition = R"({"v":2})";
    ASSERT_TRUE(store_->SaveTemplate(partner_, t, true).ok());
    t.name = "renamed";
    auto renamed = store_->SaveTemplate(partner_, t, false);
    ASSERT_TRUE(renamed.ok());
    EXPECT_EQ(renamed->version, 2);
    EXPECT_EQ(renamed->name, "renamed");

    auto latest = store_->FindTemplate(partner_, t.guid, std::nullopt);
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(latest->version, 2);
    EXPECT_EQ(latest->definition, R"({"v":2})");
    auto first = store_->FindTemplate(partner_, t.guid, 1);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->version, 1);
    EXPECT_EQ(first->definition, R"({"v":1})");
    EXPECT_EQ(store_->FindTemplate(partner_, t.guid, 3).error().code, ErrorCode::kNotFound);
}

TEST_F(TemplateStoreTest, AnotherPartnersTemplateIsNotFoundForEveryCall) {
    Template t = MakeTemplate(partner_, "mine");
    EXPECT_EQ(store_->FindTemplate(other_partner_, t.guid, std::nullopt).error().code, ErrorCode::kNotFound);
    Template hijack = t;
    hijack.name = "hijacked";
    EXPECT_EQ(store_->SaveTemplate(other_partner_, hijack, false).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->DeleteTemplate(other_partner_, t.id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->ListTemplates(other_partner_, std::nullopt, {0, 100})->total, 0);
    EXPECT_EQ(store_->FindTemplate(partner_, t.guid, std::nullopt)->name, "mine");
}

TEST_F(TemplateStoreTest, ListFiltersByStatusAndPages) {
    for (int i = 0; i < 3; ++i) MakeTemplate(partner_, "t" + std::to_string(i));
    Template hidden = MakeTemplate(partner_, "hidden");
    hidden.status = "hidden";
    ASSERT_TRUE(store_->SaveTemplate(partner_, hidden, false).ok());
    auto live = store_->ListTemplates(partner_, std::string("live"), {1, 1});
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(live->total, 3);
    ASSERT_EQ(live->items.size(), 1u);
    EXPECT_EQ(live->items[0].name, "t1");
    EXPECT_EQ(store_->ListTemplates(partner_, std::string("hidden"), {0, 100})->items[0].guid, hidden.guid);
}

TEST_F(TemplateStoreTest, BundleMembersAreOrderedOwnNonBundleTemplates) {
    Template one = MakeTemplate(partner_, "one");
    Template two = MakeTemplate(partner_, "two");
    Template bundle = MakeTemplate(partner_, "bundle", {two.guid, one.guid});
    EXPECT_EQ(bundle.sub_template_guids, (std::vector<std::string>{two.guid, one.guid}));
    auto members = store_->ListTemplateMembers(partner_, bundle.id);
    ASSERT_TRUE(members.ok());
    ASSERT_EQ(members->size(), 2u);
    EXPECT_EQ((*members)[0].name, "two");

    Template theirs = MakeTemplate(other_partner_, "theirs");
    Template bad;
    bad.partner_id = partner_;
    bad.guid = NewGuid(now_);
    bad.name = "bad";
    bad.definition = "{}";
    bad.isbundle = true;
    for (const auto& guid : {theirs.guid, bundle.guid, std::string("nope")}) {
        bad.sub_template_guids = {guid};
        auto r = store_->CreateTemplate(bad);
        ASSERT_FALSE(r.ok()) << guid;
        EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
        EXPECT_EQ(r.error().fields.count("sub_blends"), 1u);
    }
    EXPECT_EQ(store_->ListTemplates(partner_, std::nullopt, {0, 100})->total, 3) << "a refused create leaves nothing";

    ASSERT_TRUE(store_->DeleteTemplate(partner_, two.id).ok());
    auto after = store_->FindTemplate(partner_, bundle.guid, std::nullopt);
    EXPECT_EQ(after->sub_template_guids, (std::vector<std::string>{one.guid}));
}

TEST_F(TemplateStoreTest, InstalledAutomationsGetFreeNamesAndBundleLinks) {
    ASSERT_TRUE(store_->CreateAutomation(partner_, Installed(account_, "Suite", "t0")).ok());
    auto created =
        store_->CreateInstalledAutomations(partner_, Installed(account_, "Suite", "t1"),
                                           {Installed(account_, "Part", "t2"), Installed(account_, "Part", "t3")});
    ASSERT_TRUE(created.ok()) << created.error().message;
    ASSERT_EQ(created->size(), 3u);
    EXPECT_EQ((*created)[0].name, "Suite (2)");
    EXPECT_EQ((*created)[1].name, "Part");
    EXPECT_EQ((*created)[2].name, "Part (2)");
    const std::int64_t bundle_id = (*created)[0].id;
    EXPECT_EQ((*created)[1].bundle_id, bundle_id);

    auto members = store_->ListBundleMembers(partner_, account_, bundle_id);
    ASSERT_TRUE(members.ok());
    ASSERT_EQ(members->size(), 2u);
    EXPECT_EQ((*members)[1].template_guid, "t3");
    EXPECT_TRUE(store_->ListBundleMembers(other_partner_, account_, bundle_id)->empty());

    auto instances = store_->FindTemplateInstances(partner_, account_, "t1");
    ASSERT_EQ(instances->size(), 1u);
    EXPECT_TRUE(store_->FindTemplateInstances(partner_, account_, "t2")->empty()) << "members are not instances";

    EXPECT_EQ(store_->CreateInstalledAutomations(other_partner_, Installed(account_, "x", "t1"), {}).error().code,
              ErrorCode::kNotFound);
}

TEST_F(TemplateStoreTest, FinishedSetupRunMarksSetupCompleteAndFinishedDeleteRunRemovesTheAutomation) {
    auto b = store_->CreateAutomation(partner_, Installed(account_, "flows", "t"));
    ASSERT_TRUE(b.ok());
    auto run_flow = [&](const std::string& flow, const char* status) {
        weft::Run r;
        r.account_id = account_;
        r.automation_id = b->id;
        r.guid = NewGuid(now_);
        r.flow = flow;
        r.context = flow;
        r.created_at = r.updated_at = now_;
        auto queued = store_->EnqueueRun(partner_, r, 10, now_);
        EXPECT_TRUE(queued.ok());
        auto claimed = store_->ClaimRuns("w", 1, now_, now_ + 1'000'000);
        EXPECT_EQ(claimed->size(), 1u);
        RunOutcome o;
        o.status = status;
        o.stoptime = now_;
        return store_->FinishRun(queued->id, o);
    };
    ASSERT_TRUE(run_flow("setup", kRunStatusFailed).ok());
    EXPECT_FALSE(store_->FindAutomation(partner_, account_, "flows")->setup_complete);
    ASSERT_TRUE(run_flow("setup", kRunStatusFinished).ok());
    EXPECT_TRUE(store_->FindAutomation(partner_, account_, "flows")->setup_complete);

    auto failed = run_flow("delete", kRunStatusFailed);
    ASSERT_TRUE(failed.ok());
    EXPECT_TRUE(store_->FindAutomation(partner_, account_, "flows").ok()) << "a failed Delete flow keeps it";
    auto deleted = run_flow("delete", kRunStatusFinishedWithWarnings);
    ASSERT_TRUE(deleted.ok());
    EXPECT_EQ(deleted->status, kRunStatusFinishedWithWarnings) << "the run's last state is returned";
    EXPECT_EQ(store_->FindAutomation(partner_, account_, "flows").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->GetRunById(deleted->id).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace weft
