#include "api/templates.h"

#include "api/automations.h"
#include "api/body.h"
#include "api/paging.h"
#include "api/views.h"

namespace weft::api {

namespace {

std::optional<std::int64_t> ReadInteger(const json::object& body, const char* key, FieldErrors& errors) {
    const json::value* v = body.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_string() && !v->as_string().empty()) {
        try {
            size_t used = 0;
            const std::string text(v->as_string());
            const std::int64_t n = std::stoll(text, &used);
            if (used == text.size()) return n;
        } catch (const std::exception&) {
        }
    }
    errors[key].push_back("must be an integer");
    return std::nullopt;
}

std::optional<std::vector<std::string>> ReadStringList(const json::object& body, const char* key, FieldErrors& errors) {
    const json::value* v = body.if_contains(key);
    if (!v) return std::nullopt;
    std::vector<std::string> out;
    if (v->is_array()) {
        for (const auto& item : v->as_array()) {
            if (!item.is_string() || item.as_string().empty()) {
                errors[key].push_back("must be a list of guids");
                return std::nullopt;
            }
            out.emplace_back(item.as_string());
        }
        return out;
    }
    errors[key].push_back("must be a list of guids");
    return std::nullopt;
}

Result<TemplateInput> ReadTemplateInput(const json::object& body) {
    FieldErrors errors;
    TemplateInput in;
    in.name = ReadString(body, "name", "name", errors);
    in.short_description = ReadString(body, "short_description", "short_description", errors);
    in.description = ReadString(body, "description", "description", errors);
    in.icon = ReadNullableString(body, "icon", "icon", errors);
    in.icon2 = ReadNullableString(body, "icon2", "icon2", errors);
    in.icon3 = ReadNullableString(body, "icon3", "icon3", errors);
    in.status = ReadString(body, "status", "status", errors);
    in.isbundle = ReadBool(body, "isbundle", "isbundle", errors);
    in.sub_blends = ReadStringList(body, "sub_blends", errors);
    if (const json::value* v = body.if_contains("groups")) {
        if (v->is_array()) {
            in.groups = v->as_array();
        } else {
            errors["groups"].push_back("must be a list of {group_id, group_name}");
        }
    }
    in.schedule_interval = ReadInteger(body, "schedule_interval", errors);
    in.schedule_timezone = ReadString(body, "schedule_timezone", "schedule_timezone", errors);
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

Result<json::object> TemplateJson(ApiDeps& deps, PartnerId partner, const Template& t, const std::string& base,
                                  bool detailed) {
    auto info = deps.templates->Describe(t);
    if (!info) return std::move(info).error();
    json::array members;
    if (t.isbundle) {
        auto found = deps.templates->Members(partner, t);
        if (!found) return std::move(found).error();
        for (const auto& m : *found) {
            auto member = TemplateJson(deps, partner, m, base, false);
            if (!member) return std::move(member).error();
            members.emplace_back(std::move(*member));
        }
    }
    return TemplateView(t, *info, base, detailed, std::move(members));
}

Result<http::Response> TemplateResponse(ApiDeps& deps, CallContext& ctx, const Template& t) {
    auto view = TemplateJson(deps, ctx.partner.app_id, t, BaseUrl(ctx.req, deps.public_url), true);
    if (!view) return std::move(view).error();
    return JsonBody(200, *view);
}

Result<Template> PathTemplate(ApiDeps& deps, CallContext& ctx, std::optional<std::int64_t> version = {}) {
    return deps.templates->Find(ctx.partner.app_id, ctx.params.at("template"), version);
}

}  // namespace

std::optional<std::string> InstallAccountKey(const http::Request& req) {
    auto body = ParseJson(req.body);
    if (!body || !body->is_object()) return std::nullopt;
    const json::value* account = body->as_object().if_contains("account");
    if (!account || !account->is_string() || account->as_string().empty()) return std::nullopt;
    return std::string(account->as_string());
}

Result<http::Response> ListTemplates(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    std::optional<std::string> status;
    if (const std::string* v = ctx.req.Query("status")) {
        if (!IsTemplateStatus(*v)) return Error::Validation({{"status", {"must be one of live, hidden, coming_soon"}}});
        status = *v;
    }
    auto page = deps.templates->List(ctx.partner.app_id, status, paging->AsRequest());
    if (!page) return std::move(page).error();
    const std::string base = BaseUrl(ctx.req, deps.public_url);
    return PagedResponse(ctx.req, base, *paging, *page,
                         [&](const Template& t) { return TemplateJson(deps, ctx.partner.app_id, t, base, false); });
}

Result<http::Response> GetTemplate(ApiDeps& deps, CallContext& ctx) {
    std::optional<std::int64_t> version;
    if (const std::string* v = ctx.req.Query("version")) {
        json::object q{{"version", *v}};
        FieldErrors errors;
        version = ReadInteger(q, "version", errors);
        if (version && *version < 1) errors["version"].push_back("must be at least 1");
        if (!errors.empty()) return Error::Validation(std::move(errors));
    }
    auto t = PathTemplate(deps, ctx, version);
    if (!t) return std::move(t).error();
    return TemplateResponse(deps, ctx, *t);
}

Result<http::Response> CreateTemplate(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadTemplateInput(*body);
    if (!input) return std::move(input).error();
    auto created = deps.templates->Create(ctx.partner.app_id, *input);
    if (!created) return std::move(created).error();
    return TemplateResponse(deps, ctx, *created);
}

Result<http::Response> UpdateTemplate(ApiDeps& deps, CallContext& ctx) {
    auto t = PathTemplate(deps, ctx);
    if (!t) return std::move(t).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadTemplateInput(*body);
    if (!input) return std::move(input).error();
    auto updated = deps.templates->Update(ctx.partner.app_id, *t, *input);
    if (!updated) return std::move(updated).error();
    return TemplateResponse(deps, ctx, *updated);
}

Result<http::Response> DeleteTemplate(ApiDeps& deps, CallContext& ctx) {
    auto t = PathTemplate(deps, ctx);
    if (!t) return std::move(t).error();
    if (auto r = deps.templates->Delete(ctx.partner.app_id, *t); !r) return std::move(r).error();
    return NoContent();
}

Result<http::Response> InstallTemplate(ApiDeps& deps, CallContext& ctx) {
    auto t = PathTemplate(deps, ctx);
    if (!t) return std::move(t).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    FieldErrors errors;
    InstallRequest request;
    if (const std::string* q = ctx.req.Query("template_prevent_duplicates")) {
        if (auto v = ParseBoolText(*q)) {
            request.prevent_duplicates = *v;
        } else {
            errors["template_prevent_duplicates"].push_back("must be a boolean");
        }
    }
    const json::value* account = body->if_contains("account");
    if (!account || !account->is_string() || account->as_string().empty()) {
        errors["account"].push_back("is required: the guid or externalid of one of your accounts");
    }
    if (const json::value* inputs = body->if_contains("inputs"); inputs && !inputs->is_null()) {
        if (inputs->is_object()) {
            request.inputs = inputs->as_object();
        } else {
            errors["inputs"].push_back("must be an object of input values by field name");
        }
    }
    if (auto ds = ReadStringList(*body, "datasources", errors)) request.datasources = std::move(*ds);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    if (!ctx.account) return Error::NotFound("Account not found.");
    auto installed = deps.templates->Install(ctx.partner, *ctx.account, *t, request);
    if (!installed) return std::move(installed).error();
    return AutomationResponse(deps, ctx, installed->automation, true);
}

Result<http::Response> PushTemplate(ApiDeps& deps, CallContext& ctx) {
    auto t = PathTemplate(deps, ctx);
    if (!t) return std::move(t).error();
    auto b = PathAutomation(deps, ctx);
    if (!b) return std::move(b).error();
    auto pushed = deps.templates->Push(ctx.partner.app_id, *b, *t);
    if (!pushed) return std::move(pushed).error();
    return AutomationResponse(deps, ctx, *pushed, true);
}

}  // namespace weft::api
