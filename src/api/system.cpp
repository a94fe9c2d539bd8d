#include "api/system.h"

#include "api/body.h"
#include "api/partner_call.h"
#include "http/errors.h"

namespace weft::api {

void HealthZ(const http::Request&, http::Respond respond) { respond(http::JsonResponse(200, R"({"status":"ok"})")); }

void ReadyZ(ApiDeps& deps, const http::Request& req, http::Respond respond) {
    if (deps.draining && deps.draining()) {
        return respond(http::ErrorResponse(Error::Unavailable("shutting down"), req.request_id));
    }
    if (auto ping = deps.store.Ping(); !ping) return respond(http::ErrorResponse(ping.error(), req.request_id));
    respond(http::JsonResponse(200, R"({"status":"ready"})"));
}

void Metrics(ApiDeps& deps, const http::Request&, http::Respond respond) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = deps.metrics.Render();
    respond(std::move(r));
}

void OpenApi(const http::Request&, http::Respond respond) { respond(http::JsonResponse(200, OpenApiDocument())); }

void AdvanceTestClock(ApiDeps& deps, const http::Request& req, http::Respond respond) {
    auto body = ReadJsonObject(req);
    if (!body) return respond(http::ErrorResponse(body.error(), req.request_id));
    const json::value* secs = body->if_contains("advance_seconds");
    if (!secs || !secs->is_number()) {
        return respond(
            http::ErrorResponse(Error::Validation({{"advance_seconds", {"must be a number"}}}), req.request_id));
    }
    deps.test_clock->Advance(static_cast<Micros>(secs->to_number<double>() * 1e6));
    json::object out;
    out["offset_seconds"] = static_cast<double>(deps.test_clock->offset()) / 1e6;
    respond(JsonBody(200, out));
}

}  // namespace weft::api
