#include "api/widgets.h"

#include <strings.h>

#include "api/body.h"
#include "api/paging.h"
#include "api/partner_call.h"
#include "api/runs.h"
#include "http/errors.h"

namespace weft::api {

namespace {

constexpr const char* kTokenName = "X-Execution-Token";

bool IsToken(std::string_view name) { return name.size() == 17 && strncasecmp(name.data(), kTokenName, 17) == 0; }

std::string Lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// `$.start`: method, query, headers (lowercase names), body (parsed when JSON), raw_body. The token is left out.
json::object StartPayload(const http::Request& req) {
    json::object query;
    for (const auto& [k, v] : req.query) {
        if (!IsToken(k)) query[k] = v;
    }
    json::object headers;
    for (const auto& [k, v] : req.headers) {
        if (!IsToken(k)) headers[Lower(k)] = v;
    }
    json::value body = nullptr;
    if (!req.body.empty()) {
        auto parsed = ParseJson(req.body);
        body = parsed ? std::move(*parsed) : json::value(json::string_view(req.body));
    }
    return {{"method", req.method},
            {"query", std::move(query)},
            {"headers", std::move(headers)},
            {"body", std::move(body)},
            {"raw_body", req.body}};
}

}  // namespace

void TriggerWidget(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond) {
    const std::string* token = req.Header(kTokenName);
    if (!token) token = req.Query(kTokenName);
    auto target = deps.runs->ResolveTrigger(params.at("blend"), token ? *token : "");
    if (!target) return respond(http::ErrorResponse(target.error(), req.request_id));

    const RateDecision d = deps.rate_limiter.Admit("a:" + std::to_string(target->account.id),
                                                   target->partner.limits.rate_limit, deps.clock.Now());
    auto finish = [d, respond](http::Response r) {
        SetRateHeaders(r, d);
        respond(std::move(r));
    };
    if (!d.allowed) {
        http::Response r = http::ErrorResponse(RateLimited(d).error(), req.request_id);
        r.SetHeader("retry-after", std::to_string(d.retry_after));
        return finish(std::move(r));
    }
    if (req.body.size() > deps.trigger_max_body) {
        return finish(http::ErrorResponse(
            {ErrorCode::kPayloadTooLarge,
             "Triggered calls accept at most " + std::to_string(deps.trigger_max_body) + " bytes of payload.",
             {},
             {}},
            req.request_id));
    }
    auto info = deps.automations->Describe(target->automation);
    if (!info) return finish(http::ErrorResponse(info.error(), req.request_id));
    bool async = info->async_trigger;
    if (const std::string* q = req.Query("async")) async = ParseBoolText(*q).value_or(async);

    RunRequest request;
    request.context = "webhook";
    request.start_payload = StartPayload(req);
    const std::string request_id = req.request_id;
    const std::string runs_base = BaseUrl(req, deps.public_url) + "/v1/accounts/" + target->account.guid + "/blends/";
    if (async) {
        // Answered once the run is durable, without holding this thread meanwhile.
        deps.runs->SubmitAsync(target->partner, target->account, target->automation, request,
                               [finish, runs_base, request_id](Result<Run> run) {
                                   if (!run) return finish(http::ErrorResponse(run.error(), request_id));
                                   finish(AcceptedRun(*run, runs_base + run->automation_guid + "/runs/" + run->guid));
                               });
        return;
    }
    auto wait = std::make_shared<SyncWait>(
        deps, [request_id](const Run& ended) { return RunOutcome(ended, request_id, true); }, finish);
    auto run = deps.runs->Submit(target->partner, target->account, target->automation, request, wait->OnEnd());
    if (!run) return finish(http::ErrorResponse(run.error(), request_id));
    const std::string location = runs_base + run->automation_guid + "/runs/" + run->guid;
    wait->Arm(*run, location);
}

}  // namespace weft::api
