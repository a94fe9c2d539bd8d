#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace weft::connectors {

// A connector definition: how to call one product's API (docs/connectors.md describes the JSON format).
// Definitions are data: the built-in ones are embedded in the binary, partners add their own through the API.

// The API's `authentication_type` values (API.md section 10).
enum class AuthType { kNone, kApiKey, kBasic, kBearer, kOAuth2ClientCredentials, kOAuth2AuthorizationCode };

const char* AuthTypeName(AuthType t);
bool IsOAuth2(AuthType t);

struct AuthSpec {
    AuthType type = AuthType::kNone;
    // api_key: where the key goes ("header" or "query"), under which name, from which param, with what prefix.
    std::string in = "header";
    std::string name;
    std::string prefix;
    // api_key and bearer: the param holding the key or token.
    std::string param;
    // basic
    std::string username_param;
    std::string password_param;
    // OAuth2
    std::string authorize_url;
    std::string token_url;
    std::vector<std::string> scopes;
    std::string scope_separator = " ";
    std::string client_id_param = "client_id";
    std::string client_secret_param = "client_secret";
    std::string client_auth = "body";  // body | basic: how the client credentials reach the token endpoint
    json::object authorize_query;      // extra authorize URL parameters (e.g. access_type=offline)
};

// A parameter: of a connector (stored in a datasource) or of an endpoint (given by the connector block).
struct ParamSpec {
    std::string name;
    std::string label;
    std::string description;
    std::string type = "string";  // string | password | select | number | boolean
    bool required = false;
    bool secret = false;  // password params are always secret
    json::value example_value;
    json::value default_value;
    std::vector<std::string> options;  // select only
};

enum class PaginationStyle { kNone, kPage, kCursor, kLinkHeader, kNextUrl };

struct PaginationSpec {
    PaginationStyle style = PaginationStyle::kNone;
    std::string items_path;  // where each page's items are in the response body ("" = the body is the list)
    // page
    std::string page_param = "page";
    std::string size_param;
    std::int64_t size = 0;
    std::int64_t start = 1;
    // cursor: the next cursor is at `next_path` in the body, or is the `cursor_item_field` of the page's last item
    // (while `has_more_path` is true); it is sent as the query parameter `cursor_param`.
    std::string cursor_param;
    std::string next_path;
    std::string cursor_item_field;
    std::string has_more_path;
    // next_url: `next_path` holds the next page's URL (absolute, or a path resolved against the base URL's origin).
    std::int64_t max_pages = 50;
    std::int64_t max_items = 5000;
};

struct EndpointSpec {
    std::string key;
    std::string name;
    std::string description;
    std::string method = "GET";
    std::string path;  // appended to the base URL; {param} placeholders are URL-encoded
    json::object query;
    json::object headers;
    std::optional<json::value> body;
    std::string body_format = "json";  // json | form
    std::vector<ParamSpec> params;
    PaginationSpec pagination;
    std::string result_path;  // without pagination: the block's output is this part of the body
};

struct ConnectorDef {
    std::string key;
    std::string name;
    std::string description;
    std::string base_url;
    AuthSpec auth;
    std::vector<ParamSpec> params;
    json::object headers;            // sent with every request
    std::string error_message_path;  // where an error response carries its message
    std::string success_path;        // a body flag that must not be false (Slack's "ok")
    std::vector<EndpointSpec> endpoints;

    const EndpointSpec* FindEndpoint(std::string_view key) const;
    const ParamSpec* FindParam(std::string_view name) const;
};

// Parses and validates a definition; every fault is reported, keyed by JSON path (`endpoints[2].path`), in a
// `validation_failed` error.
Result<ConnectorDef> ParseConnectorDef(const json::value& doc);

// The definition as the API shows it (`params` and `endpoints` in the API's shape, secrets never included
// because definitions hold none).
json::object ParamToJson(const ParamSpec& p);
json::array EndpointsToJson(const ConnectorDef& def);

// `a.b[0].c` or `a.b.0.c`; nullptr when the path does not resolve. "" is the value itself.
const json::value* AtPath(const json::value& v, std::string_view path);

}  // namespace weft::connectors
