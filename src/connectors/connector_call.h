#pragma once

#include <optional>
#include <string>

#include "connectors/connector_def.h"
#include "core/json.h"
#include "core/result.h"
#include "engine/effects.h"

namespace weft::connectors {

inline constexpr const char* kMasked = "********";

// What authenticates a call: the datasource's params (secrets in plain text, in memory only) and, for OAuth2,
// the current access token.
struct Credentials {
    json::object params;
    std::string access_token;
};

// Checks a connector block's params against the endpoint: unknown names, missing required values, values of
// the wrong type or outside a select's options. Returns the params with defaults applied, or a message.
Result<json::object> CheckEndpointParams(const EndpointSpec& endpoint, const json::object& params);

// Checks datasource params against the connector (the same rules), for datasource create and update.
FieldErrors CheckDatasourceParams(const ConnectorDef& def, const json::object& params, bool partial);

// One connector endpoint call, page by page. Pure: the host sends request(), feeds each response to
// OnResponse, and sends the next request until the call is done. Authentication is applied to every request
// (so a refreshed token is used from the next request on); masked_request() is the request as block logs
// show it, with every credential replaced by "********".
class ConnectorCall {
  public:
    static Result<ConnectorCall> Start(const ConnectorDef& def, const std::string& endpoint, const json::object& params,
                                       Credentials credentials, std::int64_t timeout_ms);

    engine::HttpRequestEffect request() const;
    json::value masked_request() const;
    void set_access_token(std::string token) { credentials_.access_token = std::move(token); }
    int pages() const { return pages_; }

    enum class Next { kSend, kDone };
    // kSend: request() is the next page. kDone: result() is the block's outcome.
    Next OnResponse(const engine::HttpResponse& response);
    engine::HttpResult result() const { return result_; }

  private:
    ConnectorCall() = default;
    engine::HttpResult Failure(const engine::HttpResponse& response, std::string message) const;
    void SetQuery(const std::string& name, const std::string& value);

    const ConnectorDef* def_ = nullptr;
    const EndpointSpec* endpoint_ = nullptr;
    Credentials credentials_;
    std::string method_;
    std::string url_;  // without authentication
    engine::HeaderList headers_;
    std::string body_;
    std::int64_t timeout_ms_ = 60000;
    std::string origin_;  // scheme://host[:port] of the base URL: next-page links must stay on it
    std::int64_t page_ = 1;
    int pages_ = 0;
    json::array items_;
    engine::HttpResult result_;
};

// The connector's authentication as applied to one request (headers and query parameters added).
void ApplyAuth(const AuthSpec& auth, const Credentials& credentials, std::string& url, engine::HeaderList& headers);

// `scheme://host[:port]` of an http(s) URL, or "".
std::string UrlOrigin(std::string_view url);

}  // namespace weft::connectors
