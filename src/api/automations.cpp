#include "api/automations.h"

#include <atomic>
#include <memory>

#include "api/body.h"
#include "api/paging.h"
#include "api/runs.h"
#include "api/views.h"

namespace weft::api {

namespace {

Result<AutomationInput> ReadAutomationInput(const json::object& body) {
    FieldErrors errors;
    AutomationInput in;
    in.name = ReadString(body, "name", "name", errors);
    in.short_description = ReadString(body, "short_description", "short_description", errors);
    in.description = ReadString(body, "description", "description", errors);
    in.icon = ReadNullableString(body, "icon", "icon", errors);
    in.icon2 = ReadNullableString(body, "icon2", "icon2", errors);
    in.icon3 = ReadNullableString(body, "icon3", "icon3", errors);
    in.state = ReadString(body, "state", "state", errors);
    in.schedule_start_at = ReadNullableString(body, "schedule_start_at", "schedule_start_at", errors);
    in.schedule_stop_at = ReadNullableString(body, "schedule_stop_at", "schedule_stop_at", errors);
    in.schedule_timezone = ReadString(body, "schedule_timezone", "schedule_timezone", errors);
    if (const json::value* v = body.if_contains("schedule_interval")) {
        if (v->is_int64()) {
            in.schedule_interval = v->as_int64();
        } else if (v->is_string() && !v->as_string().empty()) {
            try {
                size_t used = 0;
                const std::string text(v->as_string());
                in.schedule_interval = std::stoll(text, &used);
                if (used != text.size()) errors["schedule_interval"].push_back("must be an integer");
            } catch (const std::exception&) {
                errors["schedule_interval"].push_back("must be an integer");
            }
        } else {
            errors["schedule_interval"].push_back("must be an integer");
        }
    }
    if (const json::value* v = body.if_contains("definition")) {
        if (v->is_object()) {
            in.definition = *v;
        } else {
            errors["definition"].push_back("must be an automation definition object");
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return in;
}

}  // namespace

Result<json::object> AutomationJson(ApiDeps& deps, PartnerId partner, const Automation& b, const std::string& base,
                                    bool detailed) {
    auto info = deps.automations->Describe(b);
    if (!info) return std::move(info).error();
    json::array members;
    if (b.isbundle) {
        auto found = deps.store.ListBundleMembers(partner, b.account_id, b.id);
        if (!found) return std::move(found).error();
        for (const auto& m : *found) {
            auto member = AutomationJson(deps, partner, m, base, false);
            if (!member) return std::move(member).error();
            members.emplace_back(std::move(*member));
        }
    }
    return AutomationView(b, *info, base, detailed, std::move(members));
}

Result<http::Response> AutomationResponse(ApiDeps& deps, CallContext& ctx, const Automation& b, bool detailed) {
    auto view = AutomationJson(deps, ctx.partner.app_id, b, BaseUrl(ctx.req, deps.public_url), detailed);
    if (!view) return std::move(view).error();
    return JsonBody(200, *view);
}

Result<Automation> PathAutomation(ApiDeps& deps, CallContext& ctx) {
    return deps.automations->Find(ctx.partner.app_id, *ctx.account, ctx.params.at("blend"));
}

Result<http::Response> ListAutomations(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = deps.automations->List(ctx.partner.app_id, *ctx.account, paging->AsRequest());
    if (!page) return std::move(page).error();
    const std::string base = BaseUrl(ctx.req, deps.public_url);
    return PagedResponse(ctx.req, base, *paging, *page,
                         [&](const Automation& b) { return AutomationJson(deps, ctx.partner.app_id, b, base, false); });
}

Result<http::Response> CreateAutomation(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadAutomationInput(*body);
    if (!input) return std::move(input).error();
    auto created = deps.automations->Create(ctx.partner.app_id, *ctx.account, *input);
    if (!created) return std::move(created).error();
    return AutomationResponse(deps, ctx, *created, true);
}

Result<http::Response> GetAutomation(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    return AutomationResponse(deps, ctx, *b, true);
}

Result<http::Response> UpdateAutomation(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadAutomationInput(*body);
    if (!input) return std::move(input).error();
    auto updated = deps.automations->Update(ctx.partner.app_id, *b, *input);
    if (!updated) return std::move(updated).error();
    return AutomationResponse(deps, ctx, *updated, true);
}

namespace {

// The answer for one Delete run, or nullopt to go on with the next: a finished run (its automation is gone with
// it) goes on; a failed or stopped one is 422 run_failed (its automation is kept).
std::optional<http::Response> DeleteRunOutcome(const Run& ended, const std::string& request_id) {
    if (ended.status == kRunStatusFinished || ended.status == kRunStatusFinishedWithWarnings) return std::nullopt;
    return RunOutcome(ended, request_id, false);
}

// Waits for the Delete runs one after the other: 204 once all finished, 422 for the first that did not, 202 with
// the run still going when the sync timeout comes first (its automation goes when it finishes). A run that is no
// longer there finished: the store removed it with its automation.
void AwaitDeleteRuns(ApiDeps& deps, std::vector<Run> runs, size_t next, std::string base, std::string account_guid,
                     std::string request_id, Reply reply) {
    if (next == runs.size()) return reply(NoContent());
    const Run run = runs[next];
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto go_on = std::make_shared<std::function<void(std::optional<http::Response>)>>(
        [&deps, runs = std::move(runs), next, base, account_guid, request_id,
         reply](std::optional<http::Response> answer) mutable {
            if (answer) return reply(std::move(*answer));
            AwaitDeleteRuns(deps, std::move(runs), next + 1, std::move(base), std::move(account_guid),
                            std::move(request_id), std::move(reply));
        });
    const std::string location =
        base + "/v1/accounts/" + account_guid + "/blends/" + run.automation_guid + "/runs/" + run.guid;
    auto timer = deps.runtime->After(deps.sync_timeout, [once, go_on, &deps, run, location] {
        if (once->exchange(true)) return;
        auto fresh = deps.store.GetRunById(run.id);
        if (!fresh && fresh.error().code == ErrorCode::kNotFound) return (*go_on)(std::nullopt);
        (*go_on)(AcceptedRun(fresh ? *fresh : run, location));
    });
    deps.runs->WhenFinished(run, [once, go_on, timer, request_id](const Run& ended) {
        if (once->exchange(true)) return;
        timer->Cancel();
        (*go_on)(DeleteRunOutcome(ended, request_id));
    });
    // A Delete run that finished before the line above registered is already gone with its automation.
    auto current = deps.store.GetRunById(run.id);
    if (!current && current.error().code == ErrorCode::kNotFound && !once->exchange(true)) {
        timer->Cancel();
        (*go_on)(std::nullopt);
    }
}

}  // namespace

void DeleteAutomation(ApiDeps& deps, CallContext& ctx, Reply reply) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return reply(std::move(b).error());
    bool force = false;
    if (const std::string* q = ctx.req.Query("force")) {
        auto v = ParseBoolText(*q);
        if (!v) return reply(Error::Validation({{"force", {"must be a boolean"}}}));
        force = *v;
    }
    auto pending = deps.flows->Delete(ctx.partner, *ctx.account, *b, force);
    if (!pending) return reply(std::move(pending).error());
    AwaitDeleteRuns(deps, std::move(*pending), 0, BaseUrl(ctx.req, deps.public_url), ctx.account->guid,
                    ctx.req.request_id, std::move(reply));
}

Result<http::Response> SetPersistedInputs(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    if (auto r = deps.flows->SetPersistedInputs(ctx.partner, *ctx.account, *b, *body); !r) {
        return std::move(r).error();
    }
    return NoContent();
}

Result<http::Response> RotateExecutionToken(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto rotated = deps.automations->RotateExecutionToken(ctx.partner.app_id, *b);
    if (!rotated) return std::move(rotated).error();
    json::object out;
    out["execution_token"] = rotated->execution_token;
    out["execution_url"] = BaseUrl(ctx.req, deps.public_url) + "/v1/widgets/" + rotated->guid;
    return JsonBody(200, out);
}

}  // namespace weft::api
