#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 6: accounts and their users.
Result<http::Response> ListAccounts(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateAccount(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetAccount(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateAccount(ApiDeps& deps, CallContext& ctx);
Result<http::Response> ExpireAccount(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteAccount(ApiDeps& deps, CallContext& ctx);

Result<http::Response> ListUsers(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateUser(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetUser(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateUser(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteUser(ApiDeps& deps, CallContext& ctx);

}  // namespace weft::api
