#include "api/runs.h"

#include <algorithm>
#include <atomic>

#include "api/automations.h"
#include "api/body.h"
#include "api/paging.h"
#include "api/views.h"
#include "core/time_format.h"
#include "http/errors.h"

namespace weft::api {

namespace {

constexpr size_t kMaxIdempotencyKey = 255;

std::string RunUrl(const std::string& base, const std::string& account_guid, const Run& run) {
    return base + "/v1/accounts/" + account_guid + "/blends/" + run.automation_guid + "/runs/" + run.guid;
}

}  // namespace

http::Response AcceptedRun(const Run& run, const std::string& location) {
    http::Response r = JsonBody(202, RunView(run, false));
    r.SetHeader("Location", location);
    return r;
}

http::Response RunOutcome(const Run& run, const std::string& request_id, bool use_output_response) {
    if (run.status == kRunStatusFinished || run.status == kRunStatusFinishedWithWarnings) {
        http::Response r;
        r.body = run.output ? *run.output : "{}";
        if (use_output_response && run.response) {
            if (auto resp = ParseJson(*run.response); resp && resp->is_object()) {
                const auto& o = resp->as_object();
                if (const auto* st = o.if_contains("status"); st && st->is_int64()) {
                    r.status = static_cast<int>(st->as_int64());
                }
                if (const auto* hs = o.if_contains("headers"); hs && hs->is_object()) {
                    for (const auto& [k, v] : hs->as_object()) {
                        if (v.is_string()) r.SetHeader(std::string(k), std::string(v.as_string()));
                    }
                }
            }
        }
        r.SetHeader("X-Run-Guid", run.guid);
        return r;
    }
    json::object body;
    std::string message = "The run ended " + run.status + ".";
    if (run.error) {
        if (auto e = ParseJson(*run.error); e && e->is_object() && e->as_object().contains("message")) {
            message = "The run " + run.status + ": " + std::string(e->at("message").as_string());
        }
    }
    body["error"] = message;
    body["code"] = "run_failed";
    body["request_id"] = request_id;
    body["run"] = RunView(run, true);
    http::Response r = JsonBody(422, body);
    r.SetHeader("X-Run-Guid", run.guid);
    return r;
}

RunEvents::FinishedFn SyncWait::OnEnd() {
    return [self = shared_from_this()](const Run& ended) {
        std::shared_ptr<AsyncRuntime::Timer> timer;
        {
            std::lock_guard lock(self->mu_);
            if (self->answered_) return;
            self->answered_ = true;
            timer = std::move(self->timer_);
        }
        if (timer) timer->Cancel();
        self->answer_(self->outcome_(ended));
    };
}

void SyncWait::Arm(const Run& run, std::string location) {
    std::lock_guard lock(mu_);
    if (answered_) return;  // it has ended already
    timer_ = deps_.runtime->After(deps_.sync_timeout, [self = shared_from_this(), run, location] {
        {
            std::lock_guard timer_lock(self->mu_);
            if (self->answered_) return;
            self->answered_ = true;
            self->timer_.reset();
        }
        auto fresh = self->deps_.store.GetRunById(run.id);
        self->answer_(AcceptedRun(fresh ? *fresh : run, location));
    });
}

namespace {

// A sync run call: answered when the run ends, or with 202 once sync_timeout has passed.
void SubmitAndWait(ApiDeps& deps, const Partner& partner, const Account& account, const Automation& automation,
                   const RunRequest& request, const std::string& request_id, const std::string& base, Reply reply) {
    auto wait = std::make_shared<SyncWait>(
        deps, [request_id](const Run& ended) { return RunOutcome(ended, request_id, false); },
        [reply](http::Response r) { reply(std::move(r)); });
    auto run = deps.runs->Submit(partner, account, automation, request, wait->OnEnd());
    if (!run) return reply(std::move(run).error());
    wait->Arm(*run, RunUrl(base, account.guid, *run));
}

Result<Run> PathRun(ApiDeps& deps, CallContext& ctx, const Automation& b) {
    return deps.runs->Find(ctx.partner.app_id, b, ctx.params.at("run"));
}

}  // namespace

void RunAutomation(ApiDeps& deps, CallContext& ctx, Reply reply) {
    auto b = deps.automations->FindToRun(ctx.partner.app_id, *ctx.account, ctx.params.at("blend"), ctx.lookup_token);
    if (!b) return reply(std::move(b).error());
    auto body = ReadOptionalJsonObject(ctx.req);
    if (!body) return reply(std::move(body).error());
    FieldErrors errors;
    bool async = false;
    if (const std::string* q = ctx.req.Query("async")) {
        if (auto v = ParseBoolText(*q)) {
            async = *v;
        } else {
            errors["async"].push_back("must be a boolean");
        }
    }
    if (auto v = ReadBool(*body, "async", "async", errors)) async = *v;
    RunRequest request;
    request.context = async ? "api_async" : "api_sync";
    request.admission = ctx.admission;
    if (const json::value* inputs = body->if_contains("inputs"); inputs && !inputs->is_null()) {
        if (inputs->is_object()) {
            request.inputs = inputs->as_object();
        } else {
            errors["inputs"].push_back("must be an object of input values by field name");
        }
    }
    if (const std::string* key = ctx.req.Header("Idempotency-Key")) {
        if (key->empty() || key->size() > kMaxIdempotencyKey) {
            errors["Idempotency-Key"].push_back("must be 1 to 255 characters");
        }
        request.idempotency_key = *key;
    }
    if (!errors.empty()) return reply(Error::Validation(std::move(errors)));

    if (async) {
        // Answered once the run is durable, without holding this thread meanwhile.
        deps.runs->SubmitAsync(
            ctx.partner, *ctx.account, *b, request,
            [reply, base = BaseUrl(ctx.req, deps.public_url), account = ctx.account->guid](Result<Run> run) {
                if (!run) return reply(std::move(run).error());
                reply(AcceptedRun(*run, RunUrl(base, account, *run)));
            });
        return;
    }
    if (!deps.store.LookupsLocal()) {
        return SubmitAndWait(deps, ctx.partner, *ctx.account, *b, request, ctx.req.request_id,
                             BaseUrl(ctx.req, deps.public_url), std::move(reply));
    }
    // On the I/O thread: the submission waits for its commit, and the run may begin on the submitting thread.
    deps.runtime->Post([&deps, partner = ctx.partner, account = *ctx.account, automation = std::move(*b),
                        request = std::move(request), request_id = ctx.req.request_id,
                        base = BaseUrl(ctx.req, deps.public_url), reply = std::move(reply)]() {
        SubmitAndWait(deps, partner, account, automation, request, request_id, base, reply);
    });
}

Result<http::Response> ListRuns(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    FieldErrors errors;
    RunFilter filter;
    if (const std::string* v = ctx.req.Query("finishedOnly")) {
        if (auto f = ParseBoolText(*v)) {
            filter.finished_only = *f;
        } else {
            errors["finishedOnly"].push_back("must be a boolean");
        }
    }
    if (const std::string* v = ctx.req.Query("status")) {
        static constexpr const char* kStatuses[] = {
            kRunStatusQueued, kRunStatusRunning, kRunStatusMustStop, kRunStatusFinished, kRunStatusFinishedWithWarnings,
            kRunStatusFailed, kRunStatusStopped};
        if (std::find(std::begin(kStatuses), std::end(kStatuses), *v) == std::end(kStatuses)) {
            errors["status"].push_back(
                "must be one of queued, running, must stop, finished, finished with warnings, failed, stopped");
        }
        filter.status = *v;
    }
    // The bounds have whole-second precision: `lte 10:00:00` takes in all of that second, `gt` starts after it.
    struct Bound {
        const char* key;
        std::optional<Micros>* slot;
        Micros add;
    };
    for (Bound bound :
         {Bound{"created_at[gt]", &filter.created_gt, 999'999}, Bound{"created_at[gte]", &filter.created_gte, 0},
          Bound{"created_at[lt]", &filter.created_lt, 0}, Bound{"created_at[lte]", &filter.created_lte, 999'999}}) {
        if (const std::string* v = ctx.req.Query(bound.key)) {
            auto t = ParseUtcDateTime(*v);
            if (t && v->size() == 19 && (*v)[10] == ' ') {
                *bound.slot = *t + bound.add;
            } else {
                errors[bound.key].push_back("must be \"YYYY-MM-DD HH:MM:SS\" (UTC)");
            }
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    auto page = deps.runs->List(ctx.partner.app_id, *b, filter, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page,
                         [](const Run& r) { return RunView(r, false); });
}

Result<http::Response> GetRun(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = PathRun(deps, ctx, *b);
    if (!run) return std::move(run).error();
    return JsonBody(200, RunView(*run, true));
}

Result<http::Response> LastRun(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = deps.runs->Last(ctx.partner.app_id, *b);
    if (!run) return std::move(run).error();
    return JsonBody(200, RunView(*run, true));
}

Result<http::Response> RunLogs(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = PathRun(deps, ctx, *b);
    if (!run) return std::move(run).error();
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = deps.runs->Logs(ctx.partner.app_id, *run, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page, [](const std::string& entry) {
        auto v = ParseJson(entry);
        return v ? std::move(*v) : json::value(nullptr);
    });
}

Result<http::Response> StopRun(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = PathRun(deps, ctx, *b);
    if (!run) return std::move(run).error();
    auto stopped = deps.runs->Stop(ctx.partner.app_id, *run);
    if (!stopped) return std::move(stopped).error();
    return JsonBody(200, RunView(*stopped, true));
}

Result<http::Response> RetryRun(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = PathRun(deps, ctx, *b);
    if (!run) return std::move(run).error();
    auto retried = deps.runs->Retry(ctx.partner, *ctx.account, *b, *run);
    if (!retried) return std::move(retried).error();
    return AcceptedRun(*retried, RunUrl(BaseUrl(ctx.req, deps.public_url), ctx.account->guid, *retried));
}

Result<http::Response> ExportRun(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto run = PathRun(deps, ctx, *b);
    if (!run) return std::move(run).error();
    if (!deps.export_links) return Error::Unavailable("Run exports are not available in this server.");
    const std::string base = BaseUrl(ctx.req, deps.public_url);
    json::object out;
    out["debug"] = base + deps.export_links->Link(ExportLinks::Kind::kDebug, run->guid);
    out["display"] = base + deps.export_links->Link(ExportLinks::Kind::kDisplay, run->guid);
    return JsonBody(200, out);
}

void DownloadRunExport(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond) {
    const Error refused = Error::NotFound("This export link is not valid or has expired.");
    const std::string& guid = params.find("run")->second;
    const std::string& kind = params.find("kind")->second;
    const std::string* expires = req.Query("expires");
    const std::string* signature = req.Query("signature");
    if (!deps.export_links || !expires || !signature || !deps.export_links->Verify(kind, guid, *expires, *signature)) {
        return respond(http::ErrorResponse(refused, req.request_id));
    }
    auto exported = deps.store.ExportRun(guid);
    if (!exported) {
        return respond(http::ErrorResponse(exported.error().code == ErrorCode::kNotFound ? refused : exported.error(),
                                           req.request_id));
    }
    http::Response r;
    if (*ExportLinks::ParseKind(kind) == ExportLinks::Kind::kDebug) {
        json::array logs;
        for (const auto& entry : exported->logs) {
            auto v = ParseJson(entry);
            logs.emplace_back(v ? std::move(*v) : json::value(nullptr));
        }
        json::object doc;
        doc["run"] = RunView(exported->run, true);
        doc["logs"] = std::move(logs);
        r = JsonBody(200, doc);
    } else {
        json::value output = nullptr;
        if (exported->run.output) {
            if (auto v = ParseJson(*exported->run.output)) output = std::move(*v);
        }
        r = JsonBody(200, output);
    }
    r.SetHeader("Content-Disposition", "attachment; filename=\"run-" + guid + "-" + kind + ".json\"");
    r.SetHeader("Cache-Control", "private, no-store");
    respond(std::move(r));
}

}  // namespace weft::api
