#include "jobs/connector_runner.h"

#include <optional>
#include <utility>

#include "connectors/connector_call.h"
#include "jobs/run_workers.h"

namespace weft::jobs {

using connectors::AuthType;
using engine::HttpResult;
using engine::TransportError;

namespace {
// Refresh an access token this long before it expires.
constexpr Micros kRefreshMargin = 60'000'000;

// Why a datasource cannot be used: not there, or its secrets cannot be read (a wrong master key).
std::string DatasourceProblem(const Error& e, const std::string& guid) {
    if (e.code == ErrorCode::kNotFound) return "datasource: there is no datasource '" + guid + "' in this account";
    return "datasource: the credentials of '" + guid + "' cannot be read (" +
           (e.detail.empty() ? e.message : e.detail) + ")";
}
}  // namespace

struct ConnectorRunner::Call {
    std::int64_t partner = 0;
    std::int64_t account_id = 0;
    std::string block_id;
    int attempt = 1;
    std::int64_t timeout_ms = 60000;
    connectors::ConnectorRef connector;
    std::optional<connectors::ResolvedDatasource> datasource;
    std::optional<connectors::ConnectorCall> call;
    std::optional<engine::HttpRequestEffect> plain;  // an http block's own request
    bool retried_unauthorized = false;
    Done done;
};

ConnectorRunner::ConnectorRunner(connectors::ConnectorDirectory& directory, OutboundHttp& http, AsyncRuntime& runtime,
                                 const Clock& clock)
    : directory_(directory), http_(http), runtime_(runtime), clock_(clock) {}

void ConnectorRunner::Fail(const std::shared_ptr<Call>& c, TransportError error, std::string message) {
    HttpResult r;
    r.error = error;
    r.error_message = std::move(message);
    if (c->call) r.request = c->call->masked_request();
    auto done = std::move(c->done);
    done(std::move(r));
}

void ConnectorRunner::Run(std::int64_t partner, std::int64_t account_id, const engine::ConnectorEffect& effect,
                          Done done) {
    auto c = std::make_shared<Call>();
    c->partner = partner;
    c->account_id = account_id;
    c->block_id = effect.block_id;
    c->attempt = effect.attempt;
    c->timeout_ms = effect.timeout_ms;
    c->done = std::move(done);
    auto connector = directory_.FindConnector(partner, effect.connector);
    if (!connector) {
        return Fail(c, TransportError::kBlocked, "connector: there is no connector '" + effect.connector + "'");
    }
    c->connector = std::move(*connector);
    const auto& def = *c->connector.def;
    connectors::Credentials credentials;
    if (def.auth.type != AuthType::kNone || !effect.datasource.empty()) {
        if (effect.datasource.empty()) {
            return Fail(c, TransportError::kBlocked,
                        "datasource: the " + def.name + " connector needs a datasource with its credentials");
        }
        auto ds = directory_.FindDatasource(partner, account_id, effect.datasource);
        if (!ds) return Fail(c, TransportError::kBlocked, DatasourceProblem(ds.error(), effect.datasource));
        if (ds->connector_guid != c->connector.guid) {
            return Fail(c, TransportError::kBlocked,
                        "datasource: the datasource '" + effect.datasource + "' is not a " + def.name + " datasource");
        }
        credentials.params = ds->params;
        credentials.access_token = ds->tokens.access_token;
        c->datasource = std::move(*ds);
    }
    auto call = connectors::ConnectorCall::Start(def, effect.endpoint, effect.params, std::move(credentials),
                                                 effect.timeout_ms);
    if (!call) return Fail(c, TransportError::kBlocked, call.error().message);
    c->call = std::move(*call);
    EnsureToken(c, [this, c] { SendPage(c); });
}

void ConnectorRunner::SendWithDatasource(std::int64_t partner, std::int64_t account_id,
                                         const engine::HttpRequestEffect& effect, Done done) {
    auto c = std::make_shared<Call>();
    c->partner = partner;
    c->account_id = account_id;
    c->block_id = effect.block_id;
    c->timeout_ms = effect.timeout_ms;
    c->done = std::move(done);
    c->plain = effect;
    auto ds = directory_.FindDatasource(partner, account_id, effect.datasource);
    if (!ds) return Fail(c, TransportError::kBlocked, DatasourceProblem(ds.error(), effect.datasource));
    auto connector = directory_.FindConnector(partner, ds->connector_guid);
    if (!connector) return Fail(c, TransportError::kBlocked, "datasource: its connector no longer exists");
    c->connector = std::move(*connector);
    c->datasource = std::move(*ds);
    EnsureToken(c, [this, c] { SendPlain(c); });
}

std::optional<std::string> ConnectorRunner::CheckDatasourceInput(std::int64_t partner, std::int64_t account_id,
                                                                 const std::string& guid,
                                                                 const std::string& connector) {
    auto c = directory_.FindConnector(partner, connector);
    if (!c) return "the input's connector '" + connector + "' does not exist";
    auto ds = directory_.FindDatasource(partner, account_id, guid);
    if (!ds) return "there is no datasource '" + guid + "' in this account";
    if (ds->connector_guid != c->guid) return "the datasource '" + guid + "' is not a " + c->def->name + " datasource";
    return std::nullopt;
}

void ConnectorRunner::EnsureToken(const std::shared_ptr<Call>& c, std::function<void()> next) {
    const auto& auth = c->connector.def->auth;
    if (!connectors::IsOAuth2(auth.type) || !c->datasource) return next();
    const auto& ds = *c->datasource;
    if (auth.type == AuthType::kOAuth2AuthorizationCode && !ds.connected) {
        return Fail(c, TransportError::kBlocked,
                    "datasource: the " + c->connector.def->name +
                        " datasource is not connected: authorise it first (its link is on the datasource)");
    }
    const bool expired = ds.tokens.expires_at && *ds.tokens.expires_at - kRefreshMargin <= clock_.Now();
    if (!ds.tokens.access_token.empty() && !expired) return next();
    FetchToken(c, std::move(next));
}

void ConnectorRunner::FetchToken(const std::shared_ptr<Call>& c, std::function<void()> next) {
    const auto& def = *c->connector.def;
    auto& ds = *c->datasource;
    connectors::TokenGrant grant;
    if (def.auth.type == AuthType::kOAuth2ClientCredentials) {
        grant.type = "client_credentials";
    } else {
        if (ds.tokens.refresh_token.empty()) {
            (void)directory_.MarkDisconnected(c->partner, c->account_id, ds.guid);
            return Fail(c, TransportError::kBlocked,
                        "datasource: the " + def.name +
                            " access token expired and there is no refresh token: authorise the datasource again");
        }
        grant.type = "refresh_token";
        grant.refresh_token = ds.tokens.refresh_token;
    }
    auto request = connectors::BuildTokenRequest(def.auth, ds.params, grant, c->timeout_ms);
    request.block_id = c->block_id;
    http_.Send(request, [this, c, next = std::move(next)](HttpResult r) mutable {
        runtime_.Post([this, c, next = std::move(next), r = std::move(r)]() mutable {
            const auto& d = *c->connector.def;
            if (r.error != TransportError::kNone || !r.response) {
                return Fail(c, r.error == TransportError::kNone ? TransportError::kNetwork : r.error,
                            "getting a " + d.name + " access token failed: " + r.error_message);
            }
            connectors::TokenFailure failure;
            auto tokens =
                connectors::ParseTokenResponse(*r.response, clock_.Now(), c->datasource->tokens.refresh_token, failure);
            if (!tokens) {
                if (failure.revoked && d.auth.type == AuthType::kOAuth2AuthorizationCode) {
                    (void)directory_.MarkDisconnected(c->partner, c->account_id, c->datasource->guid);
                    return Fail(c, TransportError::kBlocked,
                                "datasource: the " + d.name + " authorisation was revoked (" + failure.message +
                                    "): authorise the datasource again");
                }
                return Fail(c, r.response->status >= 500 ? TransportError::kNetwork : TransportError::kBlocked,
                            "getting a " + d.name + " access token failed: " + failure.message);
            }
            c->datasource->tokens = *tokens;
            if (auto saved = directory_.SaveTokens(c->partner, c->account_id, c->datasource->guid, *tokens); !saved) {
                return Fail(c, TransportError::kNetwork, "storing the new access token failed");
            }
            if (c->call) c->call->set_access_token(tokens->access_token);
            next();
        });
    });
}

void ConnectorRunner::SendPage(const std::shared_ptr<Call>& c) {
    auto request = c->call->request();
    request.block_id = c->block_id;
    request.attempt = c->attempt;
    http_.Send(request, [this, c](HttpResult r) {
        runtime_.Post([this, c, r = std::move(r)]() mutable {
            if (r.error != TransportError::kNone || !r.response) {
                r.request = c->call->masked_request();
                auto done = std::move(c->done);
                return done(std::move(r));
            }
            if (r.response->status == 401 && connectors::IsOAuth2(c->connector.def->auth.type) &&
                !c->retried_unauthorized && c->datasource) {
                c->retried_unauthorized = true;
                return FetchToken(c, [this, c] { SendPage(c); });
            }
            if (c->call->OnResponse(*r.response) == connectors::ConnectorCall::Next::kSend) return SendPage(c);
            auto done = std::move(c->done);
            done(c->call->result());
        });
    });
}

void ConnectorRunner::SendPlain(const std::shared_ptr<Call>& c) {
    engine::HttpRequestEffect request = *c->plain;
    connectors::Credentials credentials{c->datasource->params, c->datasource->tokens.access_token};
    connectors::ApplyAuth(c->connector.def->auth, credentials, request.url, request.headers);
    http_.Send(request, [this, c](HttpResult r) {
        runtime_.Post([this, c, r = std::move(r)]() mutable {
            if (r.response && r.response->status == 401 && connectors::IsOAuth2(c->connector.def->auth.type) &&
                !c->retried_unauthorized) {
                c->retried_unauthorized = true;
                return FetchToken(c, [this, c] { SendPlain(c); });
            }
            auto done = std::move(c->done);
            done(std::move(r));
        });
    });
}

}  // namespace weft::jobs
