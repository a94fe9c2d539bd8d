#include "connectors/oauth_flow.h"

#include <utility>

#include "connectors/oauth.h"
#include "core/crypto.h"

namespace weft::connectors {

namespace {

constexpr const char* kOpenLinkAgain = "open the datasource's authorisation link again";

FlowPage Failure(int status, std::string message, std::string guid = {}) {
    FlowPage p;
    p.status = status;
    p.message = std::move(message);
    p.datasource_guid = std::move(guid);
    return p;
}

FlowPage Internal(const Error& e, std::string guid = {}) {
    FlowPage p = Failure(500, "Something went wrong on our side; please try again later.", std::move(guid));
    p.log_detail = e.detail.empty() ? e.message : e.detail;
    return p;
}

// Turns a datasource lookup error into a page.
FlowPage LookupFailure(const Error& e, const std::string& guid) {
    if (e.code == ErrorCode::kNotFound) return Failure(404, "This datasource no longer exists.", guid);
    if (e.code == ErrorCode::kUnavailable) {
        return Failure(503, "The service is temporarily unavailable; please try again in a moment.", guid);
    }
    return Internal(e, guid);
}

}  // namespace

std::string HashState(std::string_view state) { return Sha256Hex(state); }

std::string ConsentErrorMessage(const std::string& connector_name, const std::string& error,
                                const std::string& description) {
    std::string m = error == "access_denied" ? "Access was not granted at " + connector_name
                                             : connector_name + " refused the authorisation (" + error + ")";
    if (!description.empty()) m += ": " + description;
    return m + ". The datasource is not connected; " + kOpenLinkAgain + " to try again.";
}

OAuthFlow::OAuthFlow(Store& store, ConnectorService& service, const Clock& clock, AsyncRuntime& runtime, Send send)
    : store_(store), service_(service), clock_(clock), runtime_(runtime), send_(std::move(send)) {}

FlowPage OAuthFlow::Begin(std::string_view guid_view, std::string_view jwt, const std::string& callback_url) {
    const std::string guid(guid_view);
    if (jwt.empty()) return Failure(401, "The link has no token; ask for a new link.", guid);
    auto linked = service_.VerifyLink(jwt);
    if (!linked) return Failure(401, linked.error().message, guid);
    if (*linked != guid) return Failure(401, "The link is not for this datasource.", guid);
    auto ds = service_.FindForAuthorization(guid);
    if (!ds) return LookupFailure(ds.error(), guid);
    const auto& def = *ds->connector.def;
    if (def.auth.type != AuthType::kOAuth2AuthorizationCode) {
        return Failure(400,
                       "The " + def.name + " connector does not use OAuth2 authorisation: this datasource needs " +
                           "no authorising.",
                       guid);
    }
    if (ds->datasource.connected) return Failure(409, "This datasource is already connected.", guid);

    const std::string value = RandomToken(43);  // ~256 bits
    FlowPage p;
    p.status = 302;
    p.datasource_guid = guid;
    p.location = AuthorizeUrl(def.auth, ds->resolved.params, callback_url, value);
    // `{param}` placeholders may have made it something else (javascript:, a relative path).
    if (p.location.rfind("https://", 0) != 0 && p.location.rfind("http://", 0) != 0) {
        return Failure(400, "The " + def.name + " authorize URL is not an http(s) URL; check the datasource's params.",
                       guid);
    }
    OAuthState state;
    state.state_hash = HashState(value);
    state.datasource_id = ds->datasource.id;
    state.redirect_uri = callback_url;
    state.created_at = clock_.Now();
    state.expires_at = state.created_at + kStateLifetime;
    if (auto r = store_.CreateOAuthState(state); !r) return LookupFailure(r.error(), guid);
    return p;
}

void OAuthFlow::Complete(const Callback& cb, std::function<void(FlowPage)> done) {
    if (cb.state.empty()) {
        return done(Failure(400, std::string("The authorisation answer has no state; ") + kOpenLinkAgain + "."));
    }
    auto state = store_.ClaimOAuthState(HashState(cb.state));
    if (!state) {
        if (state.error().code != ErrorCode::kNotFound) return done(LookupFailure(state.error(), {}));
        return done(Failure(400, std::string("This authorisation was already completed, has expired or was never "
                                             "started; ") +
                                     kOpenLinkAgain + "."));
    }
    const std::string guid = state->datasource_guid;
    if (state->expires_at < clock_.Now()) {
        return done(Failure(400, std::string("The authorisation took too long; ") + kOpenLinkAgain + ".", guid));
    }
    auto ds = service_.FindForAuthorization(guid);
    if (!ds) return done(LookupFailure(ds.error(), guid));
    const auto& def = *ds->connector.def;
    if (def.auth.type != AuthType::kOAuth2AuthorizationCode) {
        return done(Failure(400, "The " + def.name + " connector does not use OAuth2 authorisation.", guid));
    }
    if (!cb.error.empty())
        return done(Failure(400, ConsentErrorMessage(def.name, cb.error, cb.error_description), guid));
    if (cb.code.empty()) {
        return done(Failure(400, "The authorisation answer has no code; " + std::string(kOpenLinkAgain) + ".", guid));
    }

    TokenGrant grant;
    grant.type = "authorization_code";
    grant.code = cb.code;
    grant.redirect_uri = state->redirect_uri;
    auto request = BuildTokenRequest(def.auth, ds->resolved.params, grant, kExchangeTimeoutMs);
    auto shared_ds = std::make_shared<AuthorizingDatasource>(std::move(*ds));
    auto shared_state = std::make_shared<OAuthState>(std::move(*state));
    send_(request, [this, shared_ds, shared_state, done = std::move(done)](engine::HttpResult r) mutable {
        // Back on the pool: storing the tokens touches the database.
        runtime_.Post([this, shared_ds, shared_state, done = std::move(done), r = std::move(r)] {
            Exchanged(*shared_ds, *shared_state, r, done);
        });
    });
}

void OAuthFlow::Exchanged(const AuthorizingDatasource& ds, const OAuthState& state, const engine::HttpResult& r,
                          const std::function<void(FlowPage)>& done) {
    const auto& def = *ds.connector.def;
    const std::string& guid = ds.datasource.guid;
    const std::string retry = std::string("; the datasource is not connected: ") + kOpenLinkAgain + " to try again.";
    if (r.error == engine::TransportError::kTimeout) {
        return done(Failure(504, "The " + def.name + " token endpoint did not answer in time" + retry, guid));
    }
    if (r.error != engine::TransportError::kNone || !r.response) {
        return done(Failure(
            502, "The " + def.name + " token endpoint could not be reached (" + r.error_message + ")" + retry, guid));
    }
    TokenFailure failure;
    auto tokens = ParseTokenResponse(*r.response, clock_.Now(), "", failure);
    if (!tokens) {
        return done(Failure(
            502, "Exchanging the authorisation code with " + def.name + " failed: " + failure.message + retry, guid));
    }
    if (auto saved = service_.SaveTokens(ds.partner, ds.datasource.account_id, guid, *tokens); !saved) {
        return done(LookupFailure(saved.error(), guid));
    }
    // Other links opened for this datasource are now moot.
    (void)store_.DeleteOAuthStates(state.datasource_id);
    FlowPage p;
    p.connected = true;
    p.datasource_guid = guid;
    p.message = "The " + def.name + " datasource \"" + ds.datasource.name + "\" is connected.";
    if (ds.datasource.redirect_url && !ds.datasource.redirect_url->empty()) {
        p.status = 302;
        p.location = *ds.datasource.redirect_url;
    }
    done(std::move(p));
}

}  // namespace weft::connectors
