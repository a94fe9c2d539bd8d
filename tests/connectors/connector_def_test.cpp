#include "connectors/connector_def.h"

#include <gtest/gtest.h>

#include <set>

#include "connectors/builtin.h"

namespace weft::connectors {
namespace {

json::value Doc(std::string_view text) {
    auto v = ParseJson(text);
    EXPECT_TRUE(v.ok()) << std::string(text);
    return v.ok() ? *v : json::value();
}

FieldErrors Faults(std::string_view text) {
    auto def = ParseConnectorDef(Doc(text));
    EXPECT_FALSE(def.ok());
    if (def.ok()) return {};
    EXPECT_EQ(def.error().code, ErrorCode::kValidationFailed);
    return def.error().fields;
}

constexpr std::string_view kMinimal = R"({
  "key": "acme", "name": "Acme", "base_url": "https://api.acme.test/v2",
  "authentication": {"type": "api_key", "in": "query", "name": "key", "param": "api_key"},
  "params": [{"name": "api_key", "type": "password", "required": true}],
  "endpoints": [{"key": "list_things", "path": "/things/{kind}", "query": {"q": "{search}"},
                 "params": [{"name": "kind", "type": "select", "options": ["a", "b"], "required": true},
                            {"name": "search", "type": "string"}],
                 "pagination": {"style": "page", "page_param": "p", "size_param": "n", "size": 2,
                                "items_path": "items"}}]
})";

TEST(ConnectorDefTest, ParsesAValidDefinition) {
    auto def = ParseConnectorDef(Doc(kMinimal));
    ASSERT_TRUE(def.ok());
    EXPECT_EQ(def->key, "acme");
    EXPECT_EQ(def->auth.type, AuthType::kApiKey);
    EXPECT_EQ(def->auth.in, "query");
    ASSERT_EQ(def->params.size(), 1u);
    EXPECT_TRUE(def->params[0].secret);
    const auto* ep = def->FindEndpoint("list_things");
    ASSERT_NE(ep, nullptr);
    EXPECT_EQ(ep->method, "GET");
    EXPECT_EQ(ep->pagination.style, PaginationStyle::kPage);
    EXPECT_EQ(ep->pagination.size, 2);
    EXPECT_EQ(def->FindEndpoint("nope"), nullptr);
}

TEST(ConnectorDefTest, ReportsEveryFaultByPath) {
    auto faults = Faults(R"({
      "key": "Bad Key", "name": "", "base_url": "ftp://x/",
      "authentication": {"type": "magic"},
      "params": [{"name": "p", "type": "colour"}, {"name": "p"}, {"name": "s", "type": "select"}],
      "endpoints": [
        {"key": "a", "method": "FETCH", "path": "no-slash"},
        {"key": "a", "path": "/x/{missing}", "pagination": {"style": "sideways"}},
        {"key": "c", "path": "/c", "pagination": {"style": "cursor"}, "extra": 1}
      ],
      "surprise": true
    })");
    for (const char* path :
         {"key", "name", "base_url", "authentication.type", "params[0].type", "params[1].name", "params[2].options",
          "endpoints[0].method", "endpoints[0].path", "endpoints[1].key", "endpoints[1].path",
          "endpoints[1].pagination.style", "endpoints[2].pagination.cursor_param", "endpoints[2].extra", "surprise"}) {
        EXPECT_TRUE(faults.count(path)) << "no fault at " << path;
    }
}

TEST(ConnectorDefTest, AuthenticationMustNameDeclaredSecretParams) {
    auto faults = Faults(R"({"key": "k", "name": "K", "base_url": "https://k.test",
      "authentication": {"type": "bearer", "param": "token"},
      "params": [{"name": "token", "type": "string"}]})");
    ASSERT_TRUE(faults.count("authentication.param"));
    EXPECT_NE(faults["authentication.param"][0].find("password"), std::string::npos);

    faults = Faults(R"({"key": "k", "name": "K", "base_url": "https://k.test",
      "authentication": {"type": "oAuth2 3-legged", "token_url": "https://k.test/token"},
      "params": []})");
    EXPECT_TRUE(faults.count("authentication.authorize_url"));
    EXPECT_TRUE(faults.count("authentication.client_id_param"));
    EXPECT_TRUE(faults.count("authentication.client_secret_param"));
}

TEST(ConnectorDefTest, SecretParamsCannotBeUsedInTemplates) {
    auto faults = Faults(R"({"key": "k", "name": "K", "base_url": "https://k.test",
      "authentication": {"type": "bearer", "param": "token"},
      "params": [{"name": "token", "type": "password"}],
      "endpoints": [{"key": "leak", "path": "/x", "query": {"t": "{token}"}}]})");
    ASSERT_TRUE(faults.count("endpoints[0].query.t"));
    EXPECT_NE(faults["endpoints[0].query.t"][0].find("secret"), std::string::npos);
}

TEST(ConnectorDefTest, CursorPaginationNeedsOneWayToFindTheCursor) {
    auto faults = Faults(R"({"key": "k", "name": "K", "base_url": "https://k.test",
      "authentication": {"type": "none"},
      "endpoints": [{"key": "a", "path": "/a", "pagination": {"style": "cursor", "cursor_param": "c",
                     "cursor_item_field": "id"}}]})");
    EXPECT_TRUE(faults.count("endpoints[0].pagination.has_more_path"));
}

TEST(ConnectorDefTest, BuiltinConnectorsAreValidAndHaveStableGuids) {
    BuiltinConnectors builtin;
    std::set<std::string> keys, guids;
    for (const auto& c : builtin.all()) {
        keys.insert(c.def->key);
        guids.insert(c.guid);
        EXPECT_FALSE(c.def->endpoints.empty()) << c.def->key;
        EXPECT_EQ(builtin.Find(c.guid), &c);
        EXPECT_EQ(builtin.Find(c.def->key), &c);
    }
    for (const char* k : {"rest", "rest_basic", "rest_api_key", "rest_oauth2_client", "slack", "hubspot", "salesforce",
                          "github", "stripe"}) {
        EXPECT_TRUE(keys.count(k)) << k;
    }
    EXPECT_EQ(guids.size(), builtin.all().size());
    EXPECT_EQ(BuiltinConnectorGuid("slack"), BuiltinConnectorGuid("slack"));
    EXPECT_EQ(BuiltinConnectorGuid("slack").size(), 36u);
    EXPECT_EQ(builtin.Find("slack")->def->auth.type, AuthType::kOAuth2AuthorizationCode);
    EXPECT_EQ(builtin.Find("github")->def->FindEndpoint("list_repos")->pagination.style, PaginationStyle::kLinkHeader);
}

TEST(ConnectorDefTest, AtPathFollowsKeysAndIndexes) {
    auto v = Doc(R"({"a": {"b": [{"c": 1}, {"c": 2}]}, "list": [{"message": "m"}]})");
    ASSERT_NE(AtPath(v, "a.b[1].c"), nullptr);
    EXPECT_EQ(AtPath(v, "a.b[1].c")->as_int64(), 2);
    EXPECT_EQ(AtPath(v, "a.b.0.c")->as_int64(), 1);
    EXPECT_EQ(AtPath(v, "list[0].message")->as_string(), "m");
    EXPECT_EQ(AtPath(v, "a.x"), nullptr);
    EXPECT_EQ(AtPath(v, "a.b[9]"), nullptr);
    EXPECT_EQ(AtPath(v, "a.b[99999999999999999999]"), nullptr);
    EXPECT_EQ(AtPath(v, ""), &v);
}

}  // namespace
}  // namespace weft::connectors
