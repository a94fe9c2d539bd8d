#pragma once

#include <optional>
#include <string>

#include "connectors/connector_call.h"
#include "connectors/connector_def.h"
#include "core/clock.h"
#include "core/result.h"
#include "engine/effects.h"

namespace weft::connectors {

// OAuth2 tokens of a datasource (kept encrypted at rest).
struct OAuthTokens {
    std::string access_token;
    std::string refresh_token;
    std::optional<Micros> expires_at;  // unknown: treated as valid until a 401
};

// A token request (RFC 6749 section 4.1.3, 4.4, 6): `grant` is authorization_code (with code and redirect_uri),
// client_credentials, or refresh_token (with the refresh token).
struct TokenGrant {
    std::string type;
    std::string code;
    std::string redirect_uri;
    std::string refresh_token;
};

engine::HttpRequestEffect BuildTokenRequest(const AuthSpec& auth, const json::object& params, const TokenGrant& grant,
                                            std::int64_t timeout_ms);

// The tokens in a token endpoint's answer. A refresh answer without a new refresh token keeps `previous_refresh`.
// Errors carry the endpoint's `error`/`error_description`; `revoked` tells an invalid_grant (the refresh token or
// code is no longer valid) from other failures.
struct TokenFailure {
    std::string message;
    bool revoked = false;
};
std::optional<OAuthTokens> ParseTokenResponse(const engine::HttpResponse& response, Micros now,
                                              const std::string& previous_refresh, TokenFailure& failure);

// The URL a user is sent to to authorise a datasource (authorization code flow).
std::string AuthorizeUrl(const AuthSpec& auth, const json::object& params, const std::string& redirect_uri,
                         const std::string& state);

}  // namespace weft::connectors
