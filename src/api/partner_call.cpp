#include "api/partner_call.h"

#include "http/errors.h"

namespace weft::api {

namespace {

void SetRateHeaders(http::Response& resp, const RateDecision& d) {
    resp.SetHeader("x-ratelimit-limit", std::to_string(d.limit));
    resp.SetHeader("x-ratelimit-remaining", std::to_string(d.remaining));
}

}  // namespace

http::Response JsonBody(int status, const json::value& body) { return http::JsonResponse(status, ToJson(body)); }

http::Response NoContent() {
    http::Response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

http::Handler PartnerRoute(ApiDeps& deps, PartnerHandler fn) {
    Counter& rejections = deps.metrics.CounterFor("weft_rate_limit_rejections_total");
    deps.metrics.Describe("weft_rate_limit_rejections_total", "counter", "Calls refused by the rate limit (429).");
    return [&deps, fn = std::move(fn), &rejections](http::Request& req, const http::PathParams& params,
                                                    http::Respond respond) {
        const std::string* app_id = req.Header("X-App-Id");
        const std::string* api_key = req.Header("X-Api-Key");
        auto partner = deps.partners.Authenticate(app_id ? *app_id : "", api_key ? *api_key : "");
        if (!partner) return respond(http::ErrorResponse(partner.error(), req.request_id));

        CallContext ctx{req, params, std::move(*partner), std::nullopt};
        std::optional<Error> lookup_error;
        std::string window = "p:" + std::to_string(ctx.partner.app_id);
        if (auto it = params.find("account"); it != params.end()) {
            auto account = deps.store.FindAccount(ctx.partner.app_id, it->second);
            if (account) {
                window = "a:" + std::to_string(account->id);
                ctx.account = std::move(*account);
            } else {
                lookup_error = std::move(account).error();  // counted against the partner's own window
            }
        }
        const RateDecision d = deps.rate_limiter.Admit(window, ctx.partner.limits.rate_limit, deps.clock.Now());
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
        } else if (lookup_error) {
            resp = http::ErrorResponse(*lookup_error, req.request_id);
        } else {
            auto result = fn(ctx);
            resp = result ? std::move(*result) : http::ErrorResponse(result.error(), req.request_id);
        }
        SetRateHeaders(resp, d);
        respond(std::move(resp));
    };
}

}  // namespace weft::api
