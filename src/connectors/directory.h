#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/connector_def.h"
#include "connectors/oauth.h"
#include "core/result.h"

namespace weft::connectors {

struct ConnectorRef {
    std::string guid;
    std::shared_ptr<const ConnectorDef> def;
};

// A datasource as a connector call needs it: params and tokens decrypted (in memory only, never logged).
struct ResolvedDatasource {
    std::string guid;
    std::string connector_guid;
    json::object params;
    OAuthTokens tokens;
    bool connected = true;
};

// Where connector calls find connectors (built-in and the partner's own) and an account's datasources, and
// keep OAuth tokens. Implemented over the Store and the master key (src/domain/connector_service); tests use
// fakes. Every method is blocking and thread-safe, and scoped by partner (and account for datasources).
class ConnectorDirectory {
  public:
    virtual ~ConnectorDirectory() = default;
    virtual Result<ConnectorRef> FindConnector(std::int64_t partner, std::string_view guid_or_key) = 0;
    virtual Result<ResolvedDatasource> FindDatasource(std::int64_t partner, std::int64_t account_id,
                                                      std::string_view guid) = 0;
    virtual Status SaveTokens(std::int64_t partner, std::int64_t account_id, std::string_view guid,
                              const OAuthTokens& tokens) = 0;
    // The refresh token was refused: the datasource needs authorising again.
    virtual Status MarkDisconnected(std::int64_t partner, std::int64_t account_id, std::string_view guid) = 0;
};

}  // namespace weft::connectors
