#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "connectors/directory.h"
#include "core/async.h"
#include "core/clock.h"
#include "engine/effects.h"

namespace weft::jobs {

class OutboundHttp;

// Performs connector calls for runs: resolves the connector and the datasource, gets or refreshes OAuth2
// access tokens (before expiry, and once more on a 401), applies the authentication, sends each page through
// the outbound client (address guard included) and maps the outcome to an HttpResult whose `request` is the
// masked request for the block log. Failures that retrying cannot fix (unknown connector, wrong datasource,
// bad params, a revoked authorisation) are kBlocked with a message that says what to do.
class ConnectorRunner {
  public:
    ConnectorRunner(connectors::ConnectorDirectory& directory, OutboundHttp& http, AsyncRuntime& runtime,
                    const Clock& clock);

    using Done = std::function<void(engine::HttpResult)>;

    // A `connector` block. `done` is called once, on a runtime thread.
    void Run(std::int64_t partner, std::int64_t account_id, const engine::ConnectorEffect& effect, Done done);

    // An `http` block with a `datasource`: the datasource's authentication is applied to the request.
    void SendWithDatasource(std::int64_t partner, std::int64_t account_id, const engine::HttpRequestEffect& effect,
                            Done done);

    // A `datasource` input that names its connector: the message when `guid` is not a datasource of the account
    // for that connector, else nullopt.
    std::optional<std::string> CheckDatasourceInput(std::int64_t partner, std::int64_t account_id,
                                                    const std::string& guid, const std::string& connector);

    struct Call;

  private:
    void EnsureToken(const std::shared_ptr<Call>& c, std::function<void()> next);
    void FetchToken(const std::shared_ptr<Call>& c, std::function<void()> next);
    void SendPage(const std::shared_ptr<Call>& c);
    void SendPlain(const std::shared_ptr<Call>& c);
    void Fail(const std::shared_ptr<Call>& c, engine::TransportError error, std::string message);

    connectors::ConnectorDirectory& directory_;
    OutboundHttp& http_;
    AsyncRuntime& runtime_;
    const Clock& clock_;
};

}  // namespace weft::jobs
