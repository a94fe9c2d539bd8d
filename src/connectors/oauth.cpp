#include "connectors/oauth.h"

#include "connectors/placeholders.h"
#include "core/crypto.h"
#include "engine/value.h"

namespace weft::connectors {

namespace {

std::string Param(const json::object& params, const std::string& name) {
    const auto* v = params.if_contains(name);
    return v == nullptr || v->is_null() ? std::string() : engine::ToText(*v);
}

std::string Scopes(const AuthSpec& auth) {
    std::string out;
    for (const auto& s : auth.scopes) out += (out.empty() ? "" : auth.scope_separator) + s;
    return out;
}

// URLs in auth specs may use non-secret params (a Salesforce domain, a tenant id).
std::string ExpandUrl(const std::string& url, const json::object& params) {
    return ExpandText(
        url,
        [&](std::string_view name) -> const json::value* {
            const auto* v = params.if_contains(name);
            return v == nullptr || v->is_null() ? nullptr : v;
        },
        false);
}

}  // namespace

engine::HttpRequestEffect BuildTokenRequest(const AuthSpec& auth, const json::object& params, const TokenGrant& grant,
                                            std::int64_t timeout_ms) {
    engine::HttpRequestEffect e;
    e.method = "POST";
    e.url = ExpandUrl(auth.token_url, params);
    e.timeout_ms = timeout_ms;
    std::string form = "grant_type=" + PercentEncode(grant.type);
    auto add = [&form](const std::string& k, const std::string& v) {
        if (!v.empty()) form += "&" + PercentEncode(k) + "=" + PercentEncode(v);
    };
    if (grant.type == "authorization_code") {
        add("code", grant.code);
        add("redirect_uri", grant.redirect_uri);
    } else if (grant.type == "refresh_token") {
        add("refresh_token", grant.refresh_token);
    } else {
        add("scope", Scopes(auth));
    }
    const std::string id = Param(params, auth.client_id_param);
    const std::string secret = Param(params, auth.client_secret_param);
    if (auth.client_auth == "basic") {
        e.headers.emplace_back("Authorization",
                               "Basic " + Base64Encode(PercentEncode(id) + ":" + PercentEncode(secret)));
    } else {
        add("client_id", id);
        add("client_secret", secret);
    }
    e.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    e.headers.emplace_back("Accept", "application/json");
    e.body = std::move(form);
    return e;
}

std::optional<OAuthTokens> ParseTokenResponse(const engine::HttpResponse& response, Micros now,
                                              const std::string& previous_refresh, TokenFailure& failure) {
    auto body = ParseJson(response.body);
    const json::object* o = body && body->is_object() ? &body->get_object() : nullptr;
    auto text = [&](const char* key) -> std::string {
        if (o == nullptr) return {};
        const auto* v = o->if_contains(key);
        return v == nullptr || v->is_null() ? std::string() : engine::ToText(*v);
    };
    if (response.status < 200 || response.status > 299 || text("access_token").empty()) {
        const std::string error = text("error");
        failure.revoked = error == "invalid_grant";
        failure.message = "the token endpoint answered HTTP " + std::to_string(response.status);
        if (!error.empty()) failure.message += ": " + error;
        if (const auto d = text("error_description"); !d.empty()) failure.message += " (" + d + ")";
        if (response.status >= 200 && response.status <= 299 && error.empty()) {
            failure.message = "the token endpoint's answer has no access_token";
        }
        return std::nullopt;
    }
    OAuthTokens t;
    t.access_token = text("access_token");
    t.refresh_token = text("refresh_token");
    if (t.refresh_token.empty()) t.refresh_token = previous_refresh;
    if (o != nullptr) {
        if (const auto* e = o->if_contains("expires_in")) {
            if (auto secs = engine::ToNumber(*e); secs && *secs > 0) {
                t.expires_at = now + static_cast<Micros>(*secs * 1e6);
            }
        }
    }
    return t;
}

std::string AuthorizeUrl(const AuthSpec& auth, const json::object& params, const std::string& redirect_uri,
                         const std::string& state) {
    std::string url = ExpandUrl(auth.authorize_url, params);
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += "response_type=code&client_id=" + PercentEncode(Param(params, auth.client_id_param)) +
           "&redirect_uri=" + PercentEncode(redirect_uri) + "&state=" + PercentEncode(state);
    if (const auto scopes = Scopes(auth); !scopes.empty()) url += "&scope=" + PercentEncode(scopes);
    for (const auto& kv : auth.authorize_query) {
        url += "&" + PercentEncode(kv.key()) + "=" + PercentEncode(engine::ToText(kv.value()));
    }
    return url;
}

}  // namespace weft::connectors
