#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/builtin.h"
#include "connectors/directory.h"
#include "core/clock.h"
#include "core/secret_box.h"
#include "domain/store.h"

namespace weft::connectors {

// A connector as the API shows it: built-in or the partner's own.
struct ConnectorInfo {
    ConnectorRef ref;
    bool builtin = true;
    bool is_partner_connector = false;
    std::optional<Micros> created_at, updated_at;
};

struct DatasourceInput {
    std::optional<std::string> name;
    std::optional<std::string> connector;  // guid or key
    std::optional<json::object> params;
    std::optional<std::string> redirect_url;
};

// A datasource with what its views need. `params` holds the non-secret values and "********" for each secret
// that is set; secrets themselves never leave the service except to a connector call.
struct DatasourceDetails {
    Datasource datasource;
    ConnectorInfo connector;
    json::object params;
    bool is_used = false;
    std::vector<Automation> blends;  // filled for a single GET
    std::string link;                // "/datasources/{guid}/link?jwt=..." when it needs authorising
};

// A datasource being authorised (OAuth2 authorization code flow): found by guid alone, since links and
// callbacks carry no partner credentials.
struct AuthorizingDatasource {
    PartnerId partner = 0;
    Datasource datasource;
    ConnectorRef connector;
    ResolvedDatasource resolved;  // params with secrets, in memory only
};

// Connectors (built-in and the partner's own) and the datasources of accounts, with their secrets sealed by
// the master key. Also the ConnectorDirectory that connector calls in runs use.
class ConnectorService final : public ConnectorDirectory {
  public:
    ConnectorService(Store& store, const Clock& clock, const SecretBox& secrets, const BuiltinConnectors& builtin);

    // Built-in connectors first (by key), then the partner's own (oldest first).
    Result<Page<ConnectorInfo>> ListConnectors(PartnerId partner, const PageRequest& page);
    Result<ConnectorInfo> GetConnector(PartnerId partner, std::string_view guid_or_key);
    // `body` is a connector definition (docs/connectors.md) plus optional `is_partner_connector`.
    Result<ConnectorInfo> CreateConnector(PartnerId partner, const json::object& body);
    Result<ConnectorInfo> UpdateConnector(PartnerId partner, std::string_view guid_or_key, const json::object& body);
    Status DeleteConnector(PartnerId partner, std::string_view guid_or_key);

    Result<Page<DatasourceDetails>> ListDatasources(PartnerId partner, const Account& account, const PageRequest& page);
    Result<DatasourceDetails> GetDatasource(PartnerId partner, const Account& account, std::string_view guid);
    Result<DatasourceDetails> CreateDatasource(PartnerId partner, const Account& account, const DatasourceInput& in);
    Result<DatasourceDetails> UpdateDatasource(PartnerId partner, const Account& account, std::string_view guid,
                                               const DatasourceInput& in);
    // datasource_in_use while automations refer to it (UsedBy lists them).
    Status DeleteDatasource(PartnerId partner, const Account& account, std::string_view guid);
    Result<std::vector<Automation>> UsedBy(PartnerId partner, const Account& account, std::string_view guid);

    // Account create's `datasource`/`credentials`: checked before the account exists, then stored in the account's
    // datasource of the partner's own connector (created, or updated with the given params).
    Status CheckPartnerCredentials(PartnerId partner, const json::object& params);
    Status SetPartnerCredentials(PartnerId partner, const Account& account, const json::object& params);

    // ConnectorDirectory
    Result<ConnectorRef> FindConnector(std::int64_t partner, std::string_view guid_or_key) override;
    Result<ResolvedDatasource> FindDatasource(std::int64_t partner, std::int64_t account_id,
                                              std::string_view guid) override;
    Status SaveTokens(std::int64_t partner, std::int64_t account_id, std::string_view guid,
                      const OAuthTokens& tokens) override;
    Status MarkDisconnected(std::int64_t partner, std::int64_t account_id, std::string_view guid) override;

    // The datasource guid a link token (`/datasources/{guid}/link?jwt=...`) was issued for, or why it is refused
    // (unauthenticated: malformed, forged, expired).
    Result<std::string> VerifyLink(std::string_view jwt) const;
    Result<AuthorizingDatasource> FindForAuthorization(std::string_view guid);

    // Re-seals every datasource secret not sealed under the current key. Returns how many were re-sealed; fails
    // (naming the key ids) when values remain under another key afterwards.
    Result<int> ResealAll();
    // Whether every sealed datasource value can be opened with this server's keys (current_only: is sealed under
    // the current key). The error names the key ids and says what to do.
    Status CheckSealedKeys(bool current_only) const;

    static constexpr Micros kLinkLifetime = 30LL * 60 * 1'000'000;

  private:
    struct Secrets {
        json::object params;
        OAuthTokens tokens;
    };
    Result<Secrets> Unseal(const Datasource& d) const;
    std::string Seal(const Secrets& s) const;
    Result<DatasourceDetails> Details(PartnerId partner, const Account& account, Datasource d, bool with_blends);
    std::string Link(const Datasource& d) const;
    Result<Datasource> Assign(const ConnectorDef& def, Datasource d, const json::object& params, bool partial);

    Store& store_;
    const Clock& clock_;
    const SecretBox& secrets_;
    const BuiltinConnectors& builtin_;
};

// Datasource link tokens: HS256 JWTs (`sub` = datasource guid, `iat`, `exp` 30 minutes later) signed with a key
// derived from the master key. Verify returns the guid, or an error saying why the link is refused.
std::string SignLinkToken(const std::string& key, const std::string& guid, Micros now);
Result<std::string> VerifyLinkToken(const std::string& key, std::string_view token, Micros now);

}  // namespace weft::connectors
