#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "api/api.h"
#include "core/json.h"
#include "http/message.h"
#include "http/router.h"

namespace weft::api {

// One authenticated partner call, with the account its path addresses already resolved.
struct CallContext {
    const http::Request& req;
    const http::PathParams& params;
    Partner partner;
    std::optional<Account> account;  // set when the route has {account}
    std::uint64_t lookup_token = 0;  // for Store::FindAutomationToRun in this call
    // RunCallRoute: the call's rate decision, to be made where its run is queued (RunRequest::admission), or
    // null when it was made before the handler.
    std::shared_ptr<CallAdmission> admission;
};

using PartnerHandler = std::function<Result<http::Response>(CallContext&)>;
// Answers later, from any thread, exactly once (rate-limit headers are added on the way out).
using Reply = std::function<void(Result<http::Response>)>;
using AsyncPartnerHandler = std::function<void(CallContext&, Reply)>;

// Wraps a /v1 handler in the partner rules: authentication (401), the {account} lookup scoped to the partner
// (404), the rate limit of the window the call counts against (429, x-ratelimit-* headers on every answer),
// and the mapping of an Error to its response.
http::Handler PartnerRoute(ApiDeps& deps, PartnerHandler fn);
// The same for a handler that answers later (a sync run waiting for its outcome). It must copy what it needs
// from the context before returning (the request lives until the call is answered, but the context does not).
http::Handler AsyncPartnerRoute(ApiDeps& deps, AsyncPartnerHandler fn);
// AsyncPartnerRoute for POST .../run: its rate decision may be left to the statement that queues the run
// (CallContext::admission), which then also confirms the call's lookups from memory.
http::Handler RunCallRoute(ApiDeps& deps, AsyncPartnerHandler fn);
// For a call that names its account outside the path (a template install's body `account`): `account_key`
// reads it from the request (nullopt: none named, the partner's window); the rest is as PartnerRoute.
using AccountKeyFn = std::function<std::optional<std::string>(const http::Request&)>;
http::Handler PartnerRouteWithAccount(ApiDeps& deps, AccountKeyFn account_key, PartnerHandler fn);

void SetRateHeaders(http::Response& resp, const RateDecision& d);
// The 429 error of a refused call (the caller adds retry-after and the rate headers).
Result<http::Response> RateLimited(const RateDecision& d);

http::Response JsonBody(int status, const json::value& body);
http::Response NoContent();

}  // namespace weft::api
