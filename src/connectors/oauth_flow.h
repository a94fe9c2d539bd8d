#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "connectors/connector_service.h"
#include "core/async.h"
#include "core/clock.h"
#include "domain/store.h"
#include "engine/effects.h"

namespace weft::connectors {

// What one step of the OAuth2 authorization code flow answers the browser: a redirect, the "connected" page, or
// an error page. The api layer renders it (src/api/oauth.cpp).
struct FlowPage {
    int status = 200;             // 302 (location set), 200 (connected: the pop-up page), or an error status
    std::string location;         // 302: the authorize URL, or the datasource's redirect_url after connecting
    std::string message;          // shown on the page; never holds a secret
    std::string datasource_guid;  // when known (the pop-up page posts it to its opener)
    bool connected = false;
    std::string log_detail;  // internal failures: for the log only
};

// The authorization code flow (RFC 6749 section 4.1) of datasources of `oAuth2 3-legged` connectors:
//   1. GET /datasources/{guid}/link?jwt=... (Begin): the link token (issued by ConnectorService, signed with a
//      key derived from the master key, 30 minutes) is checked; a fresh `state` (256 random bits) is stored as
//      its SHA-256 hash in the database, bound to the datasource and the redirect_uri, for kStateLifetime; the
//      browser goes to the connector's authorize URL.
//   2. GET /datasources/oauth/callback?code=...&state=... (Complete): the state is consumed (deleted in one
//      transaction: single-use across processes), the code exchanged at the token URL through the outbound
//      client (address guard included), the tokens sealed into the datasource, which is marked connected.
// Any failure leaves the datasource as it was.
class OAuthFlow {
  public:
    // Sends one request through the outbound HTTP client; `done` once, on any thread.
    using Send = std::function<void(const engine::HttpRequestEffect&, std::function<void(engine::HttpResult)>)>;

    OAuthFlow(Store& store, ConnectorService& service, const Clock& clock, AsyncRuntime& runtime, Send send);

    // Blocking (database). `callback_url` is this server's public callback URL (the redirect_uri).
    FlowPage Begin(std::string_view guid, std::string_view jwt, const std::string& callback_url);

    struct Callback {
        std::string code;
        std::string state;
        std::string error;  // the authorization server's `error` (access_denied, ...)
        std::string error_description;
    };
    // Blocking until the token request is sent; `done` is called once, on the runtime's pool.
    void Complete(const Callback& callback, std::function<void(FlowPage)> done);

    static constexpr Micros kStateLifetime = 15LL * 60 * 1'000'000;
    static constexpr std::int64_t kExchangeTimeoutMs = 30'000;

  private:
    void Exchanged(const AuthorizingDatasource& ds, const OAuthState& state, const engine::HttpResult& result,
                   const std::function<void(FlowPage)>& done);

    Store& store_;
    ConnectorService& service_;
    const Clock& clock_;
    AsyncRuntime& runtime_;
    Send send_;
};

// The stored form of a state value (lowercase hex SHA-256).
std::string HashState(std::string_view state);

// The message for an authorization server's error answer on the callback (`error`, `error_description`).
std::string ConsentErrorMessage(const std::string& connector_name, const std::string& error,
                                const std::string& description);

}  // namespace weft::connectors
