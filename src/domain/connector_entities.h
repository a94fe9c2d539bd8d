#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/entities.h"

namespace weft {

// A partner's own connector: its definition (JSON text, docs/connectors.md). Built-in connectors are not
// stored; they ship in the binary.
struct StoredConnector {
    std::int64_t id = 0;
    PartnerId partner_id = 0;
    std::string guid;
    std::string key;
    std::string definition;
    bool is_partner_connector = false;  // the connector account create / SSO credentials go to
    Micros created_at = 0;
    Micros updated_at = 0;
};

// A datasource: one account's credentials for one connector. `params` is JSON text of the non-secret params;
// secret params and OAuth tokens are in `sealed` only, encrypted (SecretBox: "<key id>:<base64>").
struct Datasource {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string guid;
    std::string name;
    std::string connector_guid;
    std::string params = "{}";
    std::string sealed;
    bool connected = true;
    std::optional<std::string> redirect_url;  // where the OAuth callback sends the user afterwards
    Micros created_at = 0;
    Micros updated_at = 0;
};

// A datasource with the partner it belongs to (OAuth links carry only the datasource guid).
struct OwnedDatasource {
    PartnerId partner_id = 0;
    Datasource datasource;
};

// A pending OAuth2 authorisation (authorization code flow): the `state` sent to the authorization server is
// stored only as its SHA-256 hash, bound to one datasource and the redirect_uri the code is issued for, and is
// consumed once (ClaimOAuthState) before it expires.
struct OAuthState {
    std::int64_t id = 0;
    std::string state_hash;
    std::int64_t datasource_id = 0;
    std::string datasource_guid;  // filled by ClaimOAuthState
    std::string redirect_uri;
    Micros expires_at = 0;
    Micros created_at = 0;
};

}  // namespace weft
