#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 10: connectors (built-in and the partner's own) and the datasources of accounts.
Result<http::Response> ListConnectors(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetConnector(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateConnector(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateConnector(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteConnector(ApiDeps& deps, CallContext& ctx);

Result<http::Response> ListDatasources(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateDatasource(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetDatasource(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateDatasource(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteDatasource(ApiDeps& deps, CallContext& ctx);

}  // namespace weft::api
