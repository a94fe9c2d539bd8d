#include "api/automations.h"

#include "api/body.h"
#include "api/paging.h"
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

Result<http::Response> AutomationResponse(ApiDeps& deps, CallContext& ctx, const Automation& b, bool detailed) {
    auto info = deps.automations->Describe(b);
    if (!info) return std::move(info).error();
    return JsonBody(200, AutomationView(b, *info, BaseUrl(ctx.req, deps.public_url), detailed));
}

}  // namespace

Result<Automation> PathAutomation(ApiDeps& deps, CallContext& ctx) {
    return deps.automations->Find(ctx.partner.app_id, *ctx.account, ctx.params.at("blend"));
}

Result<http::Response> ListAutomations(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = deps.automations->List(ctx.partner.app_id, *ctx.account, paging->AsRequest());
    if (!page) return std::move(page).error();
    const std::string base = BaseUrl(ctx.req, deps.public_url);
    json::array data;
    for (const auto& b : page->items) {
        auto info = deps.automations->Describe(b);
        if (!info) return std::move(info).error();
        data.emplace_back(AutomationView(b, *info, base, false));
    }
    return JsonBody(200, PageEnvelope(ctx.req, base, *paging, page->total, std::move(data)));
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

Result<http::Response> DeleteAutomation(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    if (auto r = deps.automations->Delete(ctx.partner.app_id, *b); !r) return std::move(r).error();
    return NoContent();
}

Result<http::Response> SetPersistedInputs(ApiDeps& deps, CallContext& ctx) {
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    if (auto r = deps.automations->SetPersistedInputs(ctx.partner.app_id, *b, *body); !r) {
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
