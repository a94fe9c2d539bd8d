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
http::Handler AccountRoute(ApiDeps& deps, AccountKeyFn key_of, AsyncPartnerHandler fn);
}  // namespace

http::Handler PartnerRoute(ApiDeps& deps, PartnerHandler fn) {
    return AsyncPartnerRoute(deps, [fn = std::move(fn)](CallContext& ctx, Reply reply) { reply(fn(ctx)); });
}

http::Handler AsyncPartnerRoute(ApiDeps& deps, AsyncPartnerHandler fn) {
    return AccountRoute(deps, nullptr, std::move(fn));
}

http::Handler PartnerRouteWithAccount(ApiDeps& deps, AccountKeyFn account_key, PartnerHandler fn) {
    return AccountRoute(deps, std::move(account_key),
                        [fn = std::move(fn)](CallContext& ctx, Reply reply) { reply(fn(ctx)); });
}

namespace {

http::Handler AccountRoute(ApiDeps& deps, AccountKeyFn key_of, AsyncPartnerHandler fn) {
    Counter& rejections = deps.metrics.CounterFor("weft_rate_limit_rejections_total");
    deps.metrics.Describe("weft_rate_limit_rejections_total", "counter", "Calls refused by the rate limit (429).");
    return [&deps, key_of = std::move(key_of), fn = std::move(fn), &rejections](
               http::Request& req, const http::PathParams& params, http::Respond respond) {
        const std::string* app_id = req.Header("X-App-Id");
        const std::string* api_key = req.Header("X-Api-Key");
        std::optional<std::string_view> account_key;
        std::optional<std::string> named;
        auto account_param = params.find("account");
        if (account_param != params.end()) {
            account_key = account_param->second;
        } else if (key_of) {
            named = key_of(req);
            if (named) account_key = *named;
        }
        // The lookups may come from memory with their check of freshness left to the rate decision, which then
        // makes it in the same statement (PostgreSQL); when they were out of date, nothing was decided, and the
        // call is looked up again, checked, and decided on what that finds.
        auto call = deps.partners.AuthenticateCall(app_id ? *app_id : "", api_key ? *api_key : "", account_key, true);
        // A call counts against the account it addresses; one that names a missing account, or none, counts
        // against the partner's own window.
        auto window_of = [](const PartnerService::AuthorizedCall& c) {
            return c.account ? "a:" + std::to_string(c.account->id) : "p:" + std::to_string(c.partner.app_id);
        };
        RateDecision d;
        if (call && call->unconfirmed_epoch) {
            d = deps.rate_limiter.AdmitConfirming(window_of(*call), call->partner.limits.rate_limit, deps.clock.Now(),
                                                  *call->unconfirmed_epoch);
            if (d.stale) {
                call = deps.partners.AuthenticateCall(app_id ? *app_id : "", api_key ? *api_key : "", account_key);
            }
        }
        if (!call) return respond(http::ErrorResponse(call.error(), req.request_id));
        if (!call->unconfirmed_epoch || d.stale) {
            d = deps.rate_limiter.Admit(window_of(*call), call->partner.limits.rate_limit, deps.clock.Now());
        }

        CallContext ctx{req, params, std::move(call->partner), std::move(call->account), call->lookup_token};
        const bool account_missing = account_key && !ctx.account;
        http::Response resp;
        if (!d.allowed) {
            rejections.Add();
            resp = http::ErrorResponse(
                {ErrorCode::kRateLimited,
                 "Rate limit exceeded: at most " + std::to_string(d.limit) + " calls per minute. Retry after " +
                     std::to_string(d.retry_after) + " seconds.",
                 {},
                 {}},
                req.request_id);
            resp.SetHeader("retry-after", std::to_string(d.retry_after));
        } else if (account_missing) {
            resp = http::ErrorResponse(Error::NotFound("Account not found."), req.request_id);
        } else {
            fn(ctx, [respond, d, request_id = req.request_id](Result<http::Response> result) {
                http::Response out = result ? std::move(*result) : http::ErrorResponse(result.error(), request_id);
                SetRateHeaders(out, d);
                respond(std::move(out));
            });
            return;
        }
        SetRateHeaders(resp, d);
        respond(std::move(resp));
    };
}

}  // namespace

}  // namespace weft::api
