// The OAuth2 authorization code flow (connectors/oauth_flow), its state storage and master-key rotation, on both
// store backends, with the token endpoint faked.
#include "connectors/oauth_flow.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "connectors/builtin.h"
#include "connectors/connector_service.h"
#include "connectors/placeholders.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/secret_box.h"
#include "store/store_backends.h"

namespace weft::connectors {
namespace {

class InlineRuntime final : public AsyncRuntime {
  public:
    void Post(std::function<void()> fn) override { fn(); }
    std::shared_ptr<Timer> After(std::chrono::microseconds, std::function<void()>) override { return nullptr; }
};

class TestClock final : public Clock {
  public:
    Micros Now() const override { return now; }
    Micros now = 1'800'000'000'000'000;
};

std::string Query(const std::string& url, const std::string& name) {
    const auto at =
        url.find("&" + name + "=") != std::string::npos ? url.find("&" + name + "=") : url.find("?" + name + "=");
    if (at == std::string::npos) return {};
    const auto start = at + name.size() + 2;
    const auto end = url.find('&', start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

constexpr const char* kConnector = R"({
  "key": "mock", "name": "Mock", "base_url": "https://api.example.com",
  "authentication": {"type": "oAuth2 3-legged", "authorize_url": "https://auth.example.com/authorize",
                     "token_url": "https://auth.example.com/token", "scopes": ["a", "b"]},
  "params": [{"name": "client_id", "type": "string", "required": true},
             {"name": "client_secret", "type": "password", "required": true}],
  "endpoints": [{"key": "me", "path": "/me"}]
})";

class OAuthFlowTest : public ::testing::TestWithParam<testing::Backend> {
  protected:
    void SetUp() override {
        WEFT_REQUIRE_BACKEND(backend_);
        store_ = backend_.Open(4, true);
        Partner p;
        p.guid = NewGuid(clock_.now);
        p.name = "P";
        p.created_at = p.updated_at = clock_.now;
        partner_ = store_->CreatePartner(p)->app_id;
        Account a;
        a.partner_id = partner_;
        a.guid = NewGuid(clock_.now);
        a.externalid = "e";
        a.name = "A";
        a.created_at = a.updated_at = clock_.now;
        account_ = *store_->CreateAccount(a, std::nullopt);
        service_ = std::make_unique<ConnectorService>(*store_, clock_, box_, builtin_);
        auto c = service_->CreateConnector(partner_, ParseJson(kConnector)->as_object());
        ASSERT_TRUE(c.ok()) << c.error().message;
        flow_ = std::make_unique<OAuthFlow>(
            *store_, *service_, clock_, runtime_,
            [this](const engine::HttpRequestEffect& request, std::function<void(engine::HttpResult)> done) {
                sent_.push_back(request);
                done(answer_);
            });
    }

    DatasourceDetails NewDatasource(std::optional<std::string> redirect_url = std::nullopt) {
        DatasourceInput in;
        in.connector = "mock";
        in.params = json::object{{"client_id", "cid"}, {"client_secret", "csecret"}};
        in.redirect_url = std::move(redirect_url);
        auto d = service_->CreateDatasource(partner_, account_, in);
        EXPECT_TRUE(d.ok());
        return *d;
    }

    static std::string Jwt(const std::string& link) { return link.substr(link.find("jwt=") + 4); }

    FlowPage Complete(const OAuthFlow::Callback& cb) {
        FlowPage out;
        bool called = false;
        flow_->Complete(cb, [&](FlowPage p) {
            out = std::move(p);
            called = true;
        });
        EXPECT_TRUE(called);
        return out;
    }

    static engine::HttpResult Answer(int status, const std::string& body) {
        engine::HttpResult r;
        r.response = engine::HttpResponse{status, {}, body};
        return r;
    }

    testing::TestBackend backend_{GetParam()};
    std::unique_ptr<SqlStore> store_;
    TestClock clock_;
    SecretBox box_{std::string(32, 'k')};
    BuiltinConnectors builtin_;
    InlineRuntime runtime_;
    PartnerId partner_ = 0;
    Account account_;
    std::unique_ptr<ConnectorService> service_;
    std::unique_ptr<OAuthFlow> flow_;
    std::vector<engine::HttpRequestEffect> sent_;
    engine::HttpResult answer_ =
        Answer(200, R"({"access_token":"the-access-token","refresh_token":"the-refresh-token","expires_in":3600})");
    const std::string callback_ = "https://weft.example.com/datasources/oauth/callback";
};

TEST_P(OAuthFlowTest, BeginRedirectsWithAStoredStateAndCompleteStoresSealedTokens) {
    auto ds = NewDatasource();
    ASSERT_FALSE(ds.link.empty());
    auto begin = flow_->Begin(ds.datasource.guid, Jwt(ds.link), callback_);
    ASSERT_EQ(begin.status, 302) << begin.message;
    EXPECT_EQ(begin.location.rfind("https://auth.example.com/authorize?response_type=code&client_id=cid", 0), 0u);
    EXPECT_EQ(Query(begin.location, "scope"), "a%20b");
    EXPECT_EQ(Query(begin.location, "redirect_uri"), PercentEncode(callback_));
    const std::string state = Query(begin.location, "state");
    ASSERT_GE(state.size(), 40u);

    auto page = Complete({"the-code", state, "", ""});
    EXPECT_EQ(page.status, 200) << page.message;
    EXPECT_TRUE(page.connected);
    EXPECT_EQ(page.datasource_guid, ds.datasource.guid);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].url, "https://auth.example.com/token");
    EXPECT_NE(
        sent_[0].body.find("grant_type=authorization_code&code=the-code&redirect_uri=" + PercentEncode(callback_)),
        std::string::npos);
    EXPECT_NE(sent_[0].body.find("client_secret=csecret"), std::string::npos);

    auto stored = store_->FindDatasource(partner_, account_.id, ds.datasource.guid);
    ASSERT_TRUE(stored.ok());
    EXPECT_TRUE(stored->connected);
    EXPECT_EQ(stored->sealed.find("the-access-token"), std::string::npos);
    EXPECT_EQ(stored->sealed.find("the-refresh-token"), std::string::npos);
    auto resolved = service_->FindDatasource(partner_, account_.id, ds.datasource.guid);
    EXPECT_EQ(resolved->tokens.access_token, "the-access-token");
    EXPECT_EQ(resolved->tokens.refresh_token, "the-refresh-token");
    EXPECT_EQ(*resolved->tokens.expires_at, clock_.now + 3600LL * 1'000'000);

    // Used: the same state again is refused, and a connected datasource's link is refused.
    EXPECT_EQ(Complete({"the-code", state, "", ""}).status, 400);
    EXPECT_EQ(flow_->Begin(ds.datasource.guid, Jwt(ds.link), callback_).status, 409);
}

TEST_P(OAuthFlowTest, RedirectUrlIsWhereTheBrowserGoesAfterConnecting) {
    auto ds = NewDatasource("https://partner.example.com/done");
    auto begin = flow_->Begin(ds.datasource.guid, Jwt(ds.link), callback_);
    auto page = Complete({"c", Query(begin.location, "state"), "", ""});
    EXPECT_EQ(page.status, 302);
    EXPECT_EQ(page.location, "https://partner.example.com/done");
    EXPECT_TRUE(page.connected);
}

TEST_P(OAuthFlowTest, RefusedLinks) {
    auto ds = NewDatasource();
    auto other = NewDatasource();
    EXPECT_EQ(flow_->Begin(other.datasource.guid, Jwt(ds.link), callback_).status, 401);  // not its link
    EXPECT_EQ(flow_->Begin(ds.datasource.guid, "", callback_).status, 401);
    std::string forged = Jwt(ds.link);
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(flow_->Begin(ds.datasource.guid, forged, callback_).status, 401);
    // Signed with another master key.
    SecretBox other_box(std::string(32, 'z'));
    const auto foreign = SignLinkToken(other_box.DeriveKey("datasource-link"), ds.datasource.guid, clock_.now);
    EXPECT_EQ(flow_->Begin(ds.datasource.guid, foreign, callback_).status, 401);
    clock_.now += ConnectorService::kLinkLifetime + 1'000'000;
    auto expired = flow_->Begin(ds.datasource.guid, Jwt(ds.link), callback_);
    EXPECT_EQ(expired.status, 401);
    EXPECT_NE(expired.message.find("expired"), std::string::npos);
    EXPECT_TRUE(sent_.empty());
}

TEST_P(OAuthFlowTest, FailuresLeaveTheDatasourceNotConnected) {
    auto ds = NewDatasource();
    auto state_of = [&] { return Query(flow_->Begin(ds.datasource.guid, Jwt(ds.link), callback_).location, "state"); };
    // Consent denied: no token request.
    auto denied = Complete({"", state_of(), "access_denied", "no thanks"});
    EXPECT_EQ(denied.status, 400);
    EXPECT_EQ(denied.message, ConsentErrorMessage("Mock", "access_denied", "no thanks"));
    EXPECT_TRUE(sent_.empty());
    // The token endpoint refuses the code, fails, times out, cannot be reached.
    answer_ = Answer(400, R"({"error":"invalid_grant","error_description":"bad code"})");
    auto refused = Complete({"c", state_of(), "", ""});
    EXPECT_EQ(refused.status, 502);
    EXPECT_NE(refused.message.find("invalid_grant (bad code)"), std::string::npos) << refused.message;
    answer_ = Answer(200, R"({"token_type":"bearer"})");
    EXPECT_EQ(Complete({"c", state_of(), "", ""}).status, 502);
    answer_ = engine::HttpResult{};
    answer_.error = engine::TransportError::kTimeout;
    EXPECT_EQ(Complete({"c", state_of(), "", ""}).status, 504);
    answer_.error = engine::TransportError::kBlocked;
    answer_.error_message = "refused by the outbound address guard";
    EXPECT_EQ(Complete({"c", state_of(), "", ""}).status, 502);
    // Expired state.
    const auto late = state_of();
    clock_.now += OAuthFlow::kStateLifetime + 1;
    EXPECT_EQ(Complete({"c", late, "", ""}).status, 400);

    auto stored = store_->FindDatasource(partner_, account_.id, ds.datasource.guid);
    EXPECT_FALSE(stored->connected);
    auto resolved = service_->FindDatasource(partner_, account_.id, ds.datasource.guid);
    EXPECT_TRUE(resolved->tokens.access_token.empty());
}

TEST_P(OAuthFlowTest, AStateIsClaimedOnceEvenConcurrently) {
    auto ds = NewDatasource();
    OAuthState s;
    s.state_hash = HashState("s1");
    s.datasource_id = ds.datasource.id;
    s.redirect_uri = callback_;
    s.created_at = clock_.now;
    s.expires_at = clock_.now + 1000;
    ASSERT_TRUE(store_->CreateOAuthState(s).ok());
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            auto r = store_->ClaimOAuthState(HashState("s1"));
            if (r.ok()) {
                EXPECT_EQ(r->datasource_guid, ds.datasource.guid);
                EXPECT_EQ(r->redirect_uri, callback_);
                ++won;
            } else {
                EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
                ++lost;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 3);

    // Expired states are pruned when a new one is stored; a deleted datasource takes its states along.
    s.state_hash = HashState("old");
    s.expires_at = clock_.now - 1;
    ASSERT_TRUE(store_->CreateOAuthState(s).ok());
    s.state_hash = HashState("new");
    s.created_at = clock_.now;
    s.expires_at = clock_.now + 1000;
    ASSERT_TRUE(store_->CreateOAuthState(s).ok());
    EXPECT_EQ(store_->ClaimOAuthState(HashState("old")).error().code, ErrorCode::kNotFound);
    s.state_hash = HashState("newer");
    ASSERT_TRUE(store_->CreateOAuthState(s).ok());
    ASSERT_TRUE(store_->DeleteDatasource(partner_, account_.id, ds.datasource.id).ok());
    EXPECT_EQ(store_->ClaimOAuthState(HashState("newer")).error().code, ErrorCode::kNotFound);
}

TEST_P(OAuthFlowTest, RotationReSealsUnderTheNewKeyAndReportsWhatIsLeft) {
    auto ds = NewDatasource();  // sealed under 'k'
    SecretBox rotated(std::string(32, 'n'));
    ConnectorService only_new(*store_, clock_, rotated, builtin_);
    auto refused = only_new.CheckSealedKeys(false);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find(box_.current_key_id()), std::string::npos);
    EXPECT_FALSE(only_new.ResealAll().ok());  // cannot open the old values: says which datasource

    // A value that changed since it was read is not overwritten (a token refresh wins; ResealAll reads it again).
    auto stale = store_->ResealDatasource(ds.datasource.id, "stale-value", "x");
    ASSERT_TRUE(stale.ok());
    EXPECT_FALSE(*stale);

    rotated.AddOldKey(std::string(32, 'k'));
    ConnectorService both(*store_, clock_, rotated, builtin_);
    EXPECT_TRUE(both.CheckSealedKeys(false).ok());
    EXPECT_FALSE(both.CheckSealedKeys(true).ok());
    auto count = both.ResealAll();
    ASSERT_TRUE(count.ok()) << count.error().message;
    EXPECT_EQ(*count, 1);
    EXPECT_EQ(*both.ResealAll(), 0);
    EXPECT_TRUE(both.CheckSealedKeys(true).ok());
    auto keys = store_->SealedKeyIds();
    ASSERT_EQ(keys->size(), 1u);
    EXPECT_EQ(keys->front().first, rotated.current_key_id());
    SecretBox new_only(std::string(32, 'n'));
    ConnectorService after(*store_, clock_, new_only, builtin_);
    auto resolved = after.FindDatasource(partner_, account_.id, ds.datasource.guid);
    ASSERT_TRUE(resolved.ok());
    EXPECT_EQ(resolved->params.at("client_secret").as_string(), "csecret");
}

INSTANTIATE_TEST_SUITE_P(Backends, OAuthFlowTest,
                         ::testing::Values(weft::testing::Backend::kSqlite, weft::testing::Backend::kPostgres),
                         weft::testing::BackendName);

TEST(OAuthFlowPure, StateHashAndConsentMessages) {
    EXPECT_EQ(HashState("abc"), Sha256Hex("abc"));
    EXPECT_EQ(ConsentErrorMessage("Slack", "access_denied", ""),
              "Access was not granted at Slack. The datasource is not connected; open the datasource's "
              "authorisation link again to try again.");
    EXPECT_EQ(ConsentErrorMessage("Slack", "invalid_scope", "bad scope")
                  .rfind("Slack refused the authorisation "
                         "(invalid_scope): bad scope.",
                         0),
              0u);
}

}  // namespace
}  // namespace weft::connectors
