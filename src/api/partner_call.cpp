#include "api/partner_call.h"

#include "http/errors.h"

namespace weft::api {

void SetRateHeaders(http::Response& resp, const RateDecision& d) {
    resp.SetHeader("x-ratelimit-limit", std::to_string(d.limit));
    resp.SetHeader("x-ratelimit-remaining", std::to_string(d.remaining));
}

Result<http::Response> RateLimited(const RateDecision& d) {
    Error e{ErrorCode::kRateLimited,
            "Rate limit exceeded: at most " + std::to_string(d.limit) + " calls per minute. Retry after " +
                std::to_string(d.retry_after) + " seconds.",
            {},
            {}};
    return e;
}

http::Response JsonBody(int status, const json::value& body) { return http::JsonResponse(status, ToJson(body)); }

http::Response NoContent() {
    http::Response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

namespace {
http::Handler AccountRoute(ApiDeps& deps, AccountKeyFn key_of, AsyncPartnerHandler fn, bool run_call = false);
}  // namespace

http::Handler PartnerRoute(ApiDeps& deps, PartnerHandler fn) {
    return AsyncPartnerRoute(deps, [fn = std::move(fn)](CallContext& ctx, Reply reply) { reply(fn(ctx)); });
}

http::Handler AsyncPartnerRoute(ApiDeps& deps, AsyncPartnerHandler fn) {
    return AccountRoute(deps, nullptr, std::move(fn));
}

http::Handler RunCallRoute(ApiDeps& deps, AsyncPartnerHandler fn) {
    return AccountRoute(deps, nullptr, std::move(fn), true);
}

http::Handler PartnerRouteWithAccount(ApiDeps& deps, AccountKeyFn account_key, PartnerHandler fn) {
    return AccountRoute(deps, std::move(account_key),
                        [fn = std::move(fn)](CallContext& ctx, Reply reply) { reply(fn(ctx)); });
}

namespace {

// What a route's calls share.
struct RouteShared {
    ApiDeps& deps;
    AccountKeyFn key_of;
    AsyncPartnerHandler fn;
    Counter& rejections;
    bool run_call;  // POST .../run: the rate decision may be made where the run is queued
};

http::Response Refused(const RateDecision& d, const std::string& request_id) {
    http::Response resp = http::ErrorResponse(RateLimited(d).error(), request_id);
    resp.SetHeader("retry-after", std::to_string(d.retry_after));
    SetRateHeaders(resp, d);
    return resp;
}

// The handler's answer (an Error mapped to its response) with the rate headers of the call's decision.
void AnswerAdmitted(const http::Respond& respond, const RateDecision& d, const std::string& request_id,
                    Result<http::Response> result) {
    http::Response out = result ? std::move(*result) : http::ErrorResponse(result.error(), request_id);
    SetRateHeaders(out, d);
    respond(std::move(out));
}

// One call. With `defer` the lookups may come from memory, their check of freshness left to the rate decision,
// which makes it in the same statement (PostgreSQL): the rate limiter's, or for a run call the statement that
// queues the run (Store::AdmitsInEnqueue). When they were out of date nothing was decided, and the call is
// served again without `defer`: looked up and checked, then decided on what that finds. (The request lives until
// the call is answered: the server keeps it until then.)
void ServeCall(const std::shared_ptr<const RouteShared>& route, http::Request& req, const http::PathParams& params,
               http::Respond respond, bool defer) {
    ApiDeps& deps = route->deps;
    const std::string* app_id = req.Header("X-App-Id");
    const std::string* api_key = req.Header("X-Api-Key");
    std::optional<std::string_view> account_key;
    std::optional<std::string> named;
    auto account_param = params.find("account");
    if (account_param != params.end()) {
        account_key = account_param->second;
    } else if (route->key_of) {
        named = route->key_of(req);
        if (named) account_key = *named;
    }
    auto call = deps.partners.AuthenticateCall(app_id ? *app_id : "", api_key ? *api_key : "", account_key, defer);
    if (!call) return respond(http::ErrorResponse(call.error(), req.request_id));
    // A call counts against the account it addresses; one that names a missing account, or none, counts
    // against the partner's own window.
    const std::string window =
        call->account ? "a:" + std::to_string(call->account->id) : "p:" + std::to_string(call->partner.app_id);
    const int limit = call->partner.limits.rate_limit;
    const bool account_missing = account_key && !call->account;
    const auto again = [route, &req, &params, respond]() { ServeCall(route, req, params, respond, false); };

    if (call->unconfirmed_epoch && route->run_call && !account_missing && deps.store.AdmitsInEnqueue() &&
        !req.Header("Idempotency-Key")) {
        // The rate decision is made by the statement that queues the run. A handler that answers before it gets
        // there (a bad request, an unknown automation) has its call decided on the way out, as any other.
        auto admission = std::make_shared<CallAdmission>();
        admission->window = window;
        admission->limit = limit;
        admission->now = deps.clock.Now();
        admission->epoch = *call->unconfirmed_epoch;
        CallContext ctx{req, params, std::move(call->partner), std::move(call->account), call->lookup_token, admission};
        route->fn(ctx, [route, admission, again, respond, request_id = req.request_id](Result<http::Response> result) {
            RateDecision d = admission->decided
                                 ? admission->decision
                                 : route->deps.rate_limiter.AdmitConfirming(admission->window, admission->limit,
                                                                            admission->now, admission->epoch);
            if (d.stale) return again();
            if (!d.allowed) {
                route->rejections.Add();
                return respond(Refused(d, request_id));
            }
            AnswerAdmitted(respond, d, request_id, std::move(result));
        });
        return;
    }

    RateDecision d = call->unconfirmed_epoch
                         ? deps.rate_limiter.AdmitConfirming(window, limit, deps.clock.Now(), *call->unconfirmed_epoch)
                         : deps.rate_limiter.Admit(window, limit, deps.clock.Now());
    if (d.stale) return again();
    if (!d.allowed) {
        route->rejections.Add();
        return respond(Refused(d, req.request_id));
    }
    if (account_missing) {
        http::Response resp = http::ErrorResponse(Error::NotFound("Account not found."), req.request_id);
        SetRateHeaders(resp, d);
        return respond(std::move(resp));
    }
    CallContext ctx{req, params, std::move(call->partner), std::move(call->account), call->lookup_token, nullptr};
    route->fn(ctx, [respond, d, request_id = req.request_id](Result<http::Response> result) {
        AnswerAdmitted(respond, d, request_id, std::move(result));
    });
}

http::Handler AccountRoute(ApiDeps& deps, AccountKeyFn key_of, AsyncPartnerHandler fn, bool run_call) {
    Counter& rejections = deps.metrics.CounterFor("weft_rate_limit_rejections_total");
    deps.metrics.Describe("weft_rate_limit_rejections_total", "counter", "Calls refused by the rate limit (429).");
    auto route =
        std::make_shared<const RouteShared>(RouteShared{deps, std::move(key_of), std::move(fn), rejections, run_call});
    return [route](http::Request& req, const http::PathParams& params, http::Respond respond) {
        ServeCall(route, req, params, std::move(respond), true);
    };
}

}  // namespace

}  // namespace weft::api
