#include "api/connectors.h"

#include "api/body.h"
#include "api/paging.h"
#include "api/views.h"
#include "connectors/connector_service.h"
#include "core/time_format.h"

namespace weft::api {

namespace {

using connectors::ConnectorInfo;
using connectors::DatasourceDetails;

json::value OptTime(const std::optional<Micros>& t) {
    return t ? json::value(FormatTimestamp(*t)) : json::value(nullptr);
}

json::object ConnectorView(const ConnectorInfo& c, bool detailed) {
    const auto& def = *c.ref.def;
    json::object o{{"guid", c.ref.guid},
                   {"key", def.key},
                   {"name", def.name},
                   {"description", def.description},
                   {"authentication_type", connectors::AuthTypeName(def.auth.type)},
                   {"base_url", def.base_url},
                   {"is_builtin", c.builtin},
                   {"is_partner_connector", c.is_partner_connector},
                   {"created_at", OptTime(c.created_at)},
                   {"updated_at", OptTime(c.updated_at)}};
    if (detailed) {
        json::array params;
        for (const auto& p : def.params) {
            json::object v = connectors::ParamToJson(p);
            v["guid"] = connectors::BuiltinConnectorGuid(c.ref.guid + "/" + p.name);
            params.push_back(std::move(v));
        }
        o["params"] = std::move(params);
        o["endpoints"] = connectors::EndpointsToJson(def);
    }
    return o;
}

json::object DatasourceView(ApiDeps& deps, CallContext& ctx, const DatasourceDetails& d, bool detailed) {
    const auto& ds = d.datasource;
    json::object o{{"guid", ds.guid},
                   {"name", ds.name},
                   {"connector", json::object{{"guid", d.connector.ref.guid}, {"name", d.connector.ref.def->name}}},
                   {"params", d.params},
                   {"is_used", d.is_used},
                   {"is_connected", ds.connected},
                   {"created_at", FormatTimestamp(ds.created_at)},
                   {"updated_at", FormatTimestamp(ds.updated_at)}};
    const std::string link = d.link.empty() ? std::string() : BaseUrl(ctx.req, deps.public_url) + d.link;
    o["link"] = link.empty() ? json::value(nullptr) : json::value(link);
    o["additional"] = link.empty() ? json::value(nullptr)
                                   : json::value(json::object{{"message",
                                                               "Open the link to authorise this "
                                                               "datasource (valid for 30 minutes)."},
                                                              {"link", link}});
    if (detailed && deps.automations) {
        json::array blends;
        const std::string base = BaseUrl(ctx.req, deps.public_url);
        for (const auto& b : d.blends) {
            auto info = deps.automations->Describe(b);
            if (info) blends.push_back(AutomationView(b, *info, base, false));
        }
        o["blends"] = blends;
        o["automations"] = std::move(blends);
    }
    return o;
}

connectors::ConnectorService& Service(ApiDeps& deps) { return *deps.connectors; }

Result<connectors::DatasourceInput> ReadDatasourceInput(const json::object& body) {
    FieldErrors errors;
    connectors::DatasourceInput in;
    auto text = [&](const char* key) -> std::optional<std::string> {
        const auto* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_string()) {
            errors[key].push_back("must be a string");
            return std::nullopt;
        }
        return std::string(v->get_string());
    };
    in.name = text("name");
    in.connector = text("connector_guid");
    if (!in.connector) in.connector = text("connector");
    in.redirect_url = text("redirect_url");
    if (in.redirect_url && in.redirect_url->rfind("https://", 0) != 0 && in.redirect_url->rfind("http://", 0) != 0) {
        errors["redirect_url"].push_back("must be an http:// or https:// URL");
    }
    if (const auto* p = body.if_contains("params"); p != nullptr && !p->is_null()) {
        if (p->is_object()) {
            in.params = p->get_object();
        } else {
            errors["params"].push_back("must be an object of {name: value}");
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return in;
}

}  // namespace

Result<http::Response> ListConnectors(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = Service(deps).ListConnectors(ctx.partner.app_id, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page,
                         [](const auto& c) { return ConnectorView(c, false); });
}

Result<http::Response> GetConnector(ApiDeps& deps, CallContext& ctx) {
    auto c = Service(deps).GetConnector(ctx.partner.app_id, ctx.params.at("connector"));
    if (!c) return std::move(c).error();
    return JsonBody(200, ConnectorView(*c, true));
}

Result<http::Response> CreateConnector(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto c = Service(deps).CreateConnector(ctx.partner.app_id, *body);
    if (!c) return std::move(c).error();
    return JsonBody(200, ConnectorView(*c, true));
}

Result<http::Response> UpdateConnector(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto c = Service(deps).UpdateConnector(ctx.partner.app_id, ctx.params.at("connector"), *body);
    if (!c) return std::move(c).error();
    return JsonBody(200, ConnectorView(*c, true));
}

Result<http::Response> DeleteConnector(ApiDeps& deps, CallContext& ctx) {
    if (auto r = Service(deps).DeleteConnector(ctx.partner.app_id, ctx.params.at("connector")); !r) {
        return std::move(r).error();
    }
    return NoContent();
}

Result<http::Response> ListDatasources(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = Service(deps).ListDatasources(ctx.partner.app_id, *ctx.account, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page,
                         [&](const auto& d) { return DatasourceView(deps, ctx, d, false); });
}

Result<http::Response> CreateDatasource(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadDatasourceInput(*body);
    if (!input) return std::move(input).error();
    auto d = Service(deps).CreateDatasource(ctx.partner.app_id, *ctx.account, *input);
    if (!d) return std::move(d).error();
    return JsonBody(200, DatasourceView(deps, ctx, *d, false));
}

Result<http::Response> GetDatasource(ApiDeps& deps, CallContext& ctx) {
    auto d = Service(deps).GetDatasource(ctx.partner.app_id, *ctx.account, ctx.params.at("datasource"));
    if (!d) return std::move(d).error();
    return JsonBody(200, DatasourceView(deps, ctx, *d, true));
}

Result<http::Response> UpdateDatasource(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadDatasourceInput(*body);
    if (!input) return std::move(input).error();
    if (input->connector) {
        return Error::Validation({{"connector_guid", {"a datasource's connector cannot be changed"}}});
    }
    auto d = Service(deps).UpdateDatasource(ctx.partner.app_id, *ctx.account, ctx.params.at("datasource"), *input);
    if (!d) return std::move(d).error();
    return JsonBody(200, DatasourceView(deps, ctx, *d, false));
}

Result<http::Response> DeleteDatasource(ApiDeps& deps, CallContext& ctx) {
    const std::string& guid = ctx.params.at("datasource");
    auto r = Service(deps).DeleteDatasource(ctx.partner.app_id, *ctx.account, guid);
    if (r) return NoContent();
    if (r.error().code != ErrorCode::kDatasourceInUse) return std::move(r).error();
    // API.md section 5: the refusal lists the automations that use it.
    json::array blends;
    auto used = Service(deps).UsedBy(ctx.partner.app_id, *ctx.account, guid);
    if (used && deps.automations) {
        const std::string base = BaseUrl(ctx.req, deps.public_url);
        for (const auto& b : *used) {
            auto info = deps.automations->Describe(b);
            if (info) blends.push_back(AutomationView(b, *info, base, false));
        }
    }
    return JsonBody(400, json::object{{"error", r.error().message},
                                      {"code", "datasource_in_use"},
                                      {"request_id", ctx.req.request_id},
                                      {"blends", std::move(blends)}});
}

}  // namespace weft::api
