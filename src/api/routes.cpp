#include "api/accounts.h"
#include "api/api.h"
#include "api/automations.h"
#include "api/connectors.h"
#include "api/oauth.h"
#include "api/partner_call.h"
#include "api/runs.h"
#include "api/system.h"
#include "api/templates.h"
#include "api/widgets.h"

namespace weft::api {

using http::Execution;

void RegisterSystemRoutes(http::Router& r, ApiDeps& d) {
    constexpr auto kRead = Execution::kRead;
    constexpr auto kInline = Execution::kInline;
    r.Add("GET", "/healthz", kInline, [](auto& req, auto&, auto respond) { HealthZ(req, std::move(respond)); });
    r.Add("GET", "/readyz", kRead, [&d](auto& req, auto&, auto respond) { ReadyZ(d, req, std::move(respond)); });
    r.Add("GET", "/metrics", kInline, [&d](auto& req, auto&, auto respond) { Metrics(d, req, std::move(respond)); });
    if (d.test_clock) {
        r.Add("POST", "/_test/clock", kInline,
              [&d](auto& req, auto&, auto respond) { AdvanceTestClock(d, req, std::move(respond)); });
    }
}

void RegisterRoutes(http::Router& r, ApiDeps& d) {
    auto partner = [&d](Result<http::Response> (*fn)(ApiDeps&, CallContext&)) {
        return PartnerRoute(d, [&d, fn](CallContext& ctx) { return fn(d, ctx); });
    };
    constexpr auto kDb = Execution::kBlocking;
    constexpr auto kRead = Execution::kRead;
    constexpr auto kInline = Execution::kInline;

    // Section 11: outside /v1.
    RegisterSystemRoutes(r, d);
    r.Add("GET", "/v1/openapi.json", kInline, [](auto& req, auto&, auto respond) { OpenApi(req, std::move(respond)); });

    // Section 6: accounts and users.
    r.Add("GET", "/v1/accounts", kRead, partner(ListAccounts));
    r.Add("POST", "/v1/accounts", kDb, partner(CreateAccount));
    r.Add("GET", "/v1/accounts/{account}", kRead, partner(GetAccount));
    r.Add("PUT", "/v1/accounts/{account}", kDb, partner(UpdateAccount));
    r.Add("DELETE", "/v1/accounts/{account}", kDb, partner(DeleteAccount));
    r.Add("PUT", "/v1/accounts/{account}/expire", kDb, partner(ExpireAccount));
    r.Add("GET", "/v1/accounts/{account}/users", kRead, partner(ListUsers));
    r.Add("POST", "/v1/accounts/{account}/users", kDb, partner(CreateUser));
    r.Add("GET", "/v1/accounts/{account}/users/{user}", kRead, partner(GetUser));
    r.Add("PUT", "/v1/accounts/{account}/users/{user}", kDb, partner(UpdateUser));
    r.Add("DELETE", "/v1/accounts/{account}/users/{user}", kDb, partner(DeleteUser));

    // Section 10: connectors and datasources.
    if (d.connectors) {
        r.Add("GET", "/v1/connectors", kRead, partner(ListConnectors));
        r.Add("POST", "/v1/connectors", kDb, partner(CreateConnector));
        r.Add("GET", "/v1/connectors/{connector}", kRead, partner(GetConnector));
        r.Add("PUT", "/v1/connectors/{connector}", kDb, partner(UpdateConnector));
        r.Add("DELETE", "/v1/connectors/{connector}", kDb, partner(DeleteConnector));
        r.Add("GET", "/v1/accounts/{account}/datasources", kRead, partner(ListDatasources));
        r.Add("POST", "/v1/accounts/{account}/datasources", kDb, partner(CreateDatasource));
        r.Add("GET", "/v1/accounts/{account}/datasources/{datasource}", kRead, partner(GetDatasource));
        r.Add("PUT", "/v1/accounts/{account}/datasources/{datasource}", kDb, partner(UpdateDatasource));
        r.Add("DELETE", "/v1/accounts/{account}/datasources/{datasource}", kDb, partner(DeleteDatasource));
        // Section 11: datasource authorisation (the link's JWT and then the state are the credentials).
        r.Add("GET", "/datasources/{datasource}/link", kDb,
              [&d](auto& req, auto& params, auto respond) { DatasourceLink(d, req, params, std::move(respond)); });
        r.Add("GET", kOAuthCallbackPath, kDb,
              [&d](auto& req, auto&, auto respond) { OAuthCallback(d, req, std::move(respond)); });
    }

    // Section 7 and 9: automations and their runs, under both names of the collection.
    if (!d.automations || !d.runs) return;
    for (const std::string base : {"/v1/accounts/{account}/blends", "/v1/accounts/{account}/automations"}) {
        const std::string one = base + "/{blend}";
        r.Add("GET", base, kRead, partner(ListAutomations));
        r.Add("POST", base, kDb, partner(CreateAutomation));
        r.Add("GET", one, kRead, partner(GetAutomation));
        r.Add("PUT", one, kDb, partner(UpdateAutomation));
        r.Add("DELETE", one, kDb, AsyncPartnerRoute(d, [&d](CallContext& ctx, Reply reply) {
                  DeleteAutomation(d, ctx, std::move(reply));
              }));
        r.Add("PUT", base + "/{template}/{blend}", kDb, partner(PushTemplate));
        r.Add("POST", one + "/set-persisted-inputs", kDb, partner(SetPersistedInputs));
        r.Add("POST", one + "/execution-token", kDb, partner(RotateExecutionToken));
        r.Add("POST", one + "/run", d.store.LookupsLocal() ? Execution::kAsync : kDb,
              RunCallRoute(d, [&d](CallContext& ctx, Reply reply) { RunAutomation(d, ctx, std::move(reply)); }));
        r.Add("GET", one + "/runs", kRead, partner(ListRuns));
        r.Add("GET", one + "/lastrun", kRead, partner(LastRun));
        r.Add("GET", one + "/runs/{run}", kRead, partner(GetRun));
        r.Add("GET", one + "/runs/{run}/logs", kRead, partner(RunLogs));
        r.Add("POST", one + "/runs/{run}/stop", kDb, partner(StopRun));
        r.Add("POST", one + "/runs/{run}/retry", kDb, partner(RetryRun));
        r.Add("GET", one + "/runs/{run}/export", kRead, partner(ExportRun));
    }
    r.Add("GET", "/v1/exports/runs/{run}/{kind}", kRead,
          [&d](auto& req, auto& params, auto respond) { DownloadRunExport(d, req, params, std::move(respond)); });

    // Section 7: templates.
    if (d.templates && d.flows) {
        r.Add("GET", "/v1/templates", kRead, partner(ListTemplates));
        r.Add("POST", "/v1/templates", kDb, partner(CreateTemplate));
        r.Add("GET", "/v1/templates/{template}", kRead, partner(GetTemplate));
        r.Add("PUT", "/v1/templates/{template}", kDb, partner(UpdateTemplate));
        r.Add("DELETE", "/v1/templates/{template}", kDb, partner(DeleteTemplate));
        r.Add(
            "POST", "/v1/templates/{template}/install", kDb,
            PartnerRouteWithAccount(d, InstallAccountKey, [&d](CallContext& ctx) { return InstallTemplate(d, ctx); }));
    }

    // Section 8: triggered automations.
    for (const char* method : {"GET", "POST"}) {
        r.Add(method, "/v1/widgets/{blend}", kDb,
              [&d](auto& req, auto& params, auto respond) { TriggerWidget(d, req, params, std::move(respond)); });
    }
}

}  // namespace weft::api
