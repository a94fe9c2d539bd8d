#include "connectors/connector_call.h"

#include <gtest/gtest.h>

#include "connectors/builtin.h"
#include "connectors/oauth.h"

namespace weft::connectors {
namespace {

const BuiltinConnectors& Builtin() {
    static const BuiltinConnectors b;
    return b;
}

const ConnectorDef& Def(std::string_view key) { return *Builtin().Find(key)->def; }

json::object Obj(std::string_view text) { return ParseJson(text)->as_object(); }

engine::HttpResponse Json(std::string body, engine::HeaderList headers = {}) {
    engine::HttpResponse r;
    r.status = 200;
    r.headers = std::move(headers);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

std::string Header(const engine::HttpRequestEffect& e, std::string_view name) {
    for (const auto& [k, v] : e.headers) {
        if (k == name) return v;
    }
    return {};
}

TEST(ConnectorCallTest, BuildsTheRequestFromTheEndpoint) {
    auto call = ConnectorCall::Start(Def("github"), "list_issues", Obj(R"({"owner": "a b", "repo": "r/x"})"),
                                     {Obj(R"({"token": "ghp_secret"})"), ""}, 5000);
    ASSERT_TRUE(call.ok()) << call.error().message;
    const auto req = call->request();
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url, "https://api.github.com/repos/a%20b/r/x/issues?per_page=100&state=open");
    EXPECT_EQ(Header(req, "Authorization"), "Bearer ghp_secret");
    EXPECT_EQ(Header(req, "X-GitHub-Api-Version"), "2022-11-28");
    EXPECT_EQ(req.timeout_ms, 5000);
    const std::string masked = ToJson(call->masked_request());
    EXPECT_EQ(masked.find("ghp_secret"), std::string::npos);
    EXPECT_NE(masked.find("Bearer ********"), std::string::npos);
}

TEST(ConnectorCallTest, FormBodiesAndOptionalParamsLeftOut) {
    auto call = ConnectorCall::Start(Def("stripe"), "create_customer", Obj(R"({"email": "a+b@x.test"})"),
                                     {Obj(R"({"secret_key": "sk_test_1"})"), ""}, 1000);
    ASSERT_TRUE(call.ok());
    const auto req = call->request();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.body, "email=a%2Bb%40x.test");
    EXPECT_EQ(Header(req, "Content-Type"), "application/x-www-form-urlencoded");
}

TEST(ConnectorCallTest, RejectsBadParamsClearly) {
    const json::object creds = Obj(R"({"token": "t"})");
    auto missing = ConnectorCall::Start(Def("github"), "get_repo", Obj(R"({"owner": "o"})"), {creds, ""}, 1000);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("params.repo: is required"), std::string::npos);
    auto unknown =
        ConnectorCall::Start(Def("github"), "get_repo", Obj(R"({"owner": "o", "repo": "r", "x": 1})"), {creds, ""}, 1);
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("params.x"), std::string::npos);
    auto option = ConnectorCall::Start(Def("github"), "list_issues",
                                       Obj(R"({"owner": "o", "repo": "r", "state": "sideways"})"), {creds, ""}, 1);
    ASSERT_FALSE(option.ok());
    EXPECT_NE(option.error().message.find("must be one of: open, closed, all"), std::string::npos);
    auto endpoint = ConnectorCall::Start(Def("github"), "delete_everything", {}, {creds, ""}, 1);
    ASSERT_FALSE(endpoint.ok());
    EXPECT_NE(endpoint.error().message.find("has no endpoint 'delete_everything'"), std::string::npos);
}

TEST(ConnectorCallTest, SlackCursorPagination) {
    auto call = ConnectorCall::Start(Def("slack"), "list_channels", {}, {Obj(R"({"client_id": "c"})"), "xoxb-1"}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->request().url,
              "https://slack.com/api/conversations.list?limit=200&types=public_channel&exclude_archived=true");
    EXPECT_EQ(
        call->OnResponse(Json(R"({"ok":true,"channels":[{"id":"C1"}],"response_metadata":{"next_cursor":"dXNl"}})")),
        ConnectorCall::Next::kSend);
    EXPECT_NE(call->request().url.find("&cursor=dXNl"), std::string::npos);
    EXPECT_EQ(call->OnResponse(Json(R"({"ok":true,"channels":[{"id":"C2"}],"response_metadata":{"next_cursor":""}})")),
              ConnectorCall::Next::kDone);
    const auto r = call->result();
    ASSERT_TRUE(r.mapped.has_value());
    EXPECT_EQ(ToJson(*r.mapped), R"([{"id":"C1"},{"id":"C2"}])");
}

TEST(ConnectorCallTest, SlackOkFalseIsAnError) {
    auto call = ConnectorCall::Start(Def("slack"), "post_message", Obj(R"({"channel": "C1", "text": "hi"})"),
                                     {Obj(R"({"client_id": "c"})"), "xoxb-1"}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->request().body, R"({"channel":"C1","text":"hi"})");
    EXPECT_EQ(call->OnResponse(Json(R"({"ok":false,"error":"channel_not_found"})")), ConnectorCall::Next::kDone);
    EXPECT_EQ(call->result().error_message, "Slack (post_message) reported an error: channel_not_found");
}

TEST(ConnectorCallTest, StripeHasMoreWithLastItemCursor) {
    auto call = ConnectorCall::Start(Def("stripe"), "list_customers", {}, {Obj(R"({"secret_key": "sk"})"), ""}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->OnResponse(Json(R"({"data":[{"id":"cus_1"},{"id":"cus_2"}],"has_more":true})")),
              ConnectorCall::Next::kSend);
    EXPECT_EQ(call->request().url, "https://api.stripe.com/v1/customers?limit=100&starting_after=cus_2");
    EXPECT_EQ(call->OnResponse(Json(R"({"data":[{"id":"cus_3"}],"has_more":false})")), ConnectorCall::Next::kDone);
    EXPECT_EQ(call->result().mapped->as_array().size(), 3u);
}

TEST(ConnectorCallTest, HubSpotPagingNextAfter) {
    auto call = ConnectorCall::Start(Def("hubspot"), "list_contacts", {}, {Obj(R"({"access_token": "pat"})"), ""}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->OnResponse(Json(R"({"results":[{"id":"1"}],"paging":{"next":{"after":"2"}}})")),
              ConnectorCall::Next::kSend);
    EXPECT_EQ(call->request().url, "https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=2");
    EXPECT_EQ(call->OnResponse(Json(R"({"results":[{"id":"2"}]})")), ConnectorCall::Next::kDone);
    EXPECT_EQ(call->result().mapped->as_array().size(), 2u);
}

TEST(ConnectorCallTest, SalesforceNextRecordsUrlStaysOnTheInstance) {
    const json::object creds = Obj(R"({"instance_url": "https://acme.my.salesforce.com", "client_id": "c"})");
    auto call = ConnectorCall::Start(Def("salesforce"), "query", Obj(R"({"soql": "SELECT Id FROM Account"})"),
                                     {creds, "tok"}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->request().url,
              "https://acme.my.salesforce.com/services/data/v59.0/query?q=SELECT%20Id%20FROM%20Account");
    EXPECT_EQ(call->OnResponse(Json(R"({"records":[{"Id":"1"}],"done":false,
                                        "nextRecordsUrl":"/services/data/v59.0/query/01g-2000"})")),
              ConnectorCall::Next::kSend);
    EXPECT_EQ(call->request().url, "https://acme.my.salesforce.com/services/data/v59.0/query/01g-2000");
    EXPECT_EQ(call->OnResponse(Json(R"({"records":[],"done":false,"nextRecordsUrl":"https://evil.test/x"})")),
              ConnectorCall::Next::kDone);
    EXPECT_EQ(call->result().mapped->as_array().size(), 1u);  // an empty page ends the list

    auto evil = ConnectorCall::Start(Def("salesforce"), "query", Obj(R"({"soql": "q"})"), {creds, "tok"}, 1);
    ASSERT_TRUE(evil.ok());
    EXPECT_EQ(evil->OnResponse(Json(R"({"records":[{"Id":"1"}],"nextRecordsUrl":"https://evil.test/x"})")),
              ConnectorCall::Next::kDone);
    EXPECT_NE(evil->result().error_message.find("another host"), std::string::npos);
}

TEST(ConnectorCallTest, GitHubLinkHeaderAndErrorMessages) {
    auto call = ConnectorCall::Start(Def("github"), "list_repos", {}, {Obj(R"({"token": "t"})"), ""}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->OnResponse(
                  Json(R"([{"id":1}])", {{"Link", R"(<https://api.github.com/user/repos?page=2>; rel="next", )"
                                                  R"(<https://api.github.com/user/repos?page=5>; rel="last")"}})),
              ConnectorCall::Next::kSend);
    EXPECT_EQ(call->request().url, "https://api.github.com/user/repos?page=2");
    engine::HttpResponse denied = Json(R"({"message":"Bad credentials"})");
    denied.status = 401;
    EXPECT_EQ(call->OnResponse(denied), ConnectorCall::Next::kDone);
    EXPECT_EQ(call->result().error_message,
              "GitHub (list_repos) answered HTTP 401 (check the datasource's credentials and permissions): "
              "Bad credentials");
    ASSERT_TRUE(call->result().response.has_value());
}

TEST(ConnectorCallTest, PagePaginationStopsAtAShortPageAndAtTheItemLimit) {
    auto def = ParseConnectorDef(*ParseJson(R"({"key": "p", "name": "P", "base_url": "http://h.test",
      "authentication": {"type": "none"},
      "endpoints": [{"key": "all", "path": "/all", "pagination": {"style": "page", "size_param": "n", "size": 2,
                     "items_path": "items", "max_items": 5}}]})"));
    ASSERT_TRUE(def.ok());
    auto call = ConnectorCall::Start(*def, "all", {}, {}, 1);
    ASSERT_TRUE(call.ok());
    EXPECT_EQ(call->request().url, "http://h.test/all?page=1&n=2");
    EXPECT_EQ(call->OnResponse(Json(R"({"items":[1,2]})")), ConnectorCall::Next::kSend);
    EXPECT_EQ(call->request().url, "http://h.test/all?n=2&page=2");
    EXPECT_EQ(call->OnResponse(Json(R"({"items":[3]})")), ConnectorCall::Next::kDone);
    EXPECT_EQ(ToJson(*call->result().mapped), "[1,2,3]");

    auto capped = ConnectorCall::Start(*def, "all", {}, {}, 1);
    ASSERT_TRUE(capped.ok());
    for (int i = 0; i < 2; ++i) EXPECT_EQ(capped->OnResponse(Json(R"({"items":[1,2]})")), ConnectorCall::Next::kSend);
    EXPECT_EQ(capped->OnResponse(Json(R"({"items":[1,2]})")), ConnectorCall::Next::kDone);
    EXPECT_EQ(capped->result().mapped->as_array().size(), 5u);
}

TEST(ConnectorCallTest, AuthTypesAppliedAndMasked) {
    auto key = ConnectorCall::Start(Def("rest_api_key"), "get", Obj(R"({"path": "x"})"),
                                    {Obj(R"({"base_url": "http://h.test", "api_key": "k1"})"), ""}, 1);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(Header(key->request(), "X-API-Key"), "k1");
    auto basic =
        ConnectorCall::Start(Def("rest_basic"), "get", Obj(R"({"path": "x"})"),
                             {Obj(R"({"base_url": "http://h.test", "username": "u", "password": "p"})"), ""}, 1);
    ASSERT_TRUE(basic.ok());
    EXPECT_EQ(Header(basic->request(), "Authorization"), "Basic dTpw");
    EXPECT_EQ(ToJson(basic->masked_request()).find("dTpw"), std::string::npos);
    auto none = ConnectorCall::Start(Def("rest"), "get", Obj(R"({"path": "x"})"),
                                     {Obj(R"({"base_url": "http://h.test"})"), ""}, 1);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(Header(none->request(), "Authorization"), "");
}

TEST(OAuthTest, TokenRequestsAndAnswers) {
    const auto& auth = Def("salesforce").auth;
    const json::object params =
        Obj(R"({"login_url": "https://login.salesforce.com", "client_id": "id", "client_secret": "s3"})");
    auto url = AuthorizeUrl(auth, params, "https://weft.test/cb", "st");
    EXPECT_EQ(url,
              "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=id&redirect_uri="
              "https%3A%2F%2Fweft.test%2Fcb&state=st&scope=api%20refresh_token");
    auto req = BuildTokenRequest(auth, params, {"refresh_token", "", "", "r1"}, 1000);
    EXPECT_EQ(req.url, "https://login.salesforce.com/services/oauth2/token");
    EXPECT_EQ(req.body, "grant_type=refresh_token&refresh_token=r1&client_id=id&client_secret=s3");

    TokenFailure failure;
    auto t = ParseTokenResponse(Json(R"({"access_token":"a2","expires_in":3600})"), 1'000'000, "r1", failure);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->access_token, "a2");
    EXPECT_EQ(t->refresh_token, "r1");
    EXPECT_EQ(*t->expires_at, 1'000'000 + 3'600'000'000);
    engine::HttpResponse bad = Json(R"({"error":"invalid_grant","error_description":"expired"})");
    bad.status = 400;
    EXPECT_FALSE(ParseTokenResponse(bad, 0, "", failure).has_value());
    EXPECT_TRUE(failure.revoked);
    EXPECT_EQ(failure.message, "the token endpoint answered HTTP 400: invalid_grant (expired)");
}

}  // namespace
}  // namespace weft::connectors
