#include "api/views.h"

#include "core/time_format.h"
#include "domain/automation_service.h"

namespace weft::api {

namespace {

json::value OptTime(const std::optional<Micros>& t) {
    return t ? json::value(FormatTimestamp(*t)) : json::value(nullptr);
}

json::value OptText(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }

}  // namespace

json::object AccountView(const Account& a) {
    json::object o;
    o["guid"] = a.guid;
    o["externalid"] = a.externalid;
    o["name"] = a.name;
    o["expired"] = a.expired;
    o["expired_at"] = OptTime(a.expired_at);
    o["created_at"] = FormatTimestamp(a.created_at);
    o["updated_at"] = FormatTimestamp(a.updated_at);
    return o;
}

json::object UserView(const User& u) {
    json::object o;
    o["guid"] = u.guid;
    o["externalid"] = OptText(u.externalid);
    o["name"] = OptText(u.name);
    o["email"] = OptText(u.email);
    o["locale"] = OptText(u.locale);
    o["created_at"] = FormatTimestamp(u.created_at);
    o["updated_at"] = FormatTimestamp(u.updated_at);
    return o;
}

namespace {

json::value OptLocal(const std::optional<Micros>& t, const std::string& tz) {
    return t ? json::value(UtcToLocal(*t, tz)) : json::value(nullptr);
}

json::value JsonOr(const std::optional<std::string>& text, json::value fallback) {
    if (!text) return fallback;
    auto v = ParseJson(*text);
    return v ? std::move(*v) : fallback;
}

}  // namespace

namespace {

json::array InputsView(const DefinitionInfo& info, const json::object& values, Micros created_at, Micros updated_at) {
    json::array inputs;
    std::int64_t order = 0;
    for (const auto& in : info.inputs) {
        ++order;
        json::object i;
        i["id"] = order;
        i["block_id"] = in.block_id;
        i["label"] = in.flow;
        i["prompt"] = in.prompt;
        i["field_name"] = in.field_name;
        const json::value* v = values.if_contains(in.field_name);
        i["persisted_value"] = v ? *v : json::value(nullptr);
        i["is_required"] = in.required;
        i["is_top_input"] = true;
        i["is_persisted"] = in.persisted;
        i["order"] = order;
        i["created_at"] = FormatTimestamp(created_at);
        i["updated_at"] = FormatTimestamp(updated_at);
        inputs.push_back(std::move(i));
    }
    return inputs;
}

}  // namespace

json::object AutomationView(const Automation& b, const DefinitionInfo& info, const std::string& base_url, bool detailed,
                            json::array sub_automations) {
    json::object o;
    o["guid"] = b.guid;
    o["name"] = b.name;
    o["short_description"] = b.short_description;
    o["description"] = b.description;
    o["type"] = "widget";
    o["icon"] = OptText(b.icon);
    o["icon2"] = OptText(b.icon2);
    o["icon3"] = OptText(b.icon3);
    o["status"] = "live";
    o["state"] = b.state;
    o["run_mode"] = b.run_mode;
    o["schedule_start_at"] = OptLocal(b.schedule_start_at, b.schedule_timezone);
    o["schedule_stop_at"] = OptLocal(b.schedule_stop_at, b.schedule_timezone);
    o["schedule_interval"] = b.schedule_interval;
    o["schedule_timezone"] = b.schedule_timezone;
    o["created_at"] = FormatTimestamp(b.created_at);
    o["updated_at"] = FormatTimestamp(b.updated_at);
    o["last_run_at"] = OptTime(b.last_run_at);
    o["has_setup"] = info.has_setup;
    o["has_settings"] = info.has_settings;
    o["setup_complete"] = b.setup_complete;
    o["isbundle"] = b.isbundle;
    o["sub_automations"] = sub_automations;
    o["sub_blends"] = std::move(sub_automations);
    o["template_guid"] = OptText(b.template_guid);
    o["template_version"] = b.template_version ? json::value(*b.template_version) : json::value(nullptr);
    // The Hub (EMBEDDING.md) does not exist yet: no admin links to hand out.
    o["admin_url"] = nullptr;
    o["admin_sso_url"] = nullptr;
    o["execution_url"] = base_url + "/v1/widgets/" + b.guid;
    if (detailed) {
        auto persisted = ParseJson(b.persisted_inputs);
        const json::object empty;
        const json::object& values = persisted && persisted->is_object() ? persisted->as_object() : empty;
        o["inputs"] = InputsView(info, values, b.created_at, b.updated_at);
        o["definition"] = JsonOr(b.definition, json::object{});
        o["execution_token"] = b.execution_token;
    }
    return o;
}

json::object TemplateView(const Template& t, const DefinitionInfo& info, const std::string& base_url, bool detailed,
                          json::array sub_blends) {
    json::object o;
    o["guid"] = t.guid;
    o["name"] = t.name;
    o["description"] = t.description;
    o["short_description"] = t.short_description;
    o["icon"] = OptText(t.icon);
    o["icon2"] = OptText(t.icon2);
    o["icon3"] = OptText(t.icon3);
    o["status"] = t.status;
    o["has_setup"] = info.has_setup;
    o["has_settings"] = info.has_settings;
    o["isbundle"] = t.isbundle;
    o["sub_blends"] = std::move(sub_blends);
    o["groups"] = JsonOr(t.groups, json::array{});
    // The Hub's install deep link (EMBEDDING.md): opened through single sign-on, it starts the setup wizard.
    o["activation_url"] = base_url + "/sso/templates/" + t.guid + "/install";
    o["version"] = t.version;
    o["schedule_interval"] = t.schedule_interval;
    o["schedule_timezone"] = t.schedule_timezone;
    o["created_at"] = FormatTimestamp(t.created_at);
    o["updated_at"] = FormatTimestamp(t.updated_at);
    if (detailed) {
        o["inputs"] = InputsView(info, json::object{}, t.created_at, t.updated_at);
        o["definition"] = JsonOr(t.definition, json::object{});
    }
    return o;
}

json::object RunView(const Run& r, bool detailed) {
    json::object o;
    o["guid"] = r.guid;
    o["blend_guid"] = r.automation_guid;
    o["status"] = r.status;
    o["context"] = r.context;
    o["schedule_starttime"] = OptTime(r.schedule_starttime);
    o["starttime"] = OptTime(r.starttime);
    o["stoptime"] = OptTime(r.stoptime);
    o["created_at"] = FormatTimestamp(r.created_at);
    o["updated_at"] = FormatTimestamp(r.updated_at);
    o["attempt"] = r.attempt;
    o["error"] = JsonOr(r.error, nullptr);
    if (detailed) {
        o["inputs"] = JsonOr(r.inputs, json::object{});
        o["output"] = JsonOr(r.output, nullptr);
    }
    return o;
}

}  // namespace weft::api
