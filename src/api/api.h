#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "connectors/connector_service.h"
#include "connectors/oauth_flow.h"
#include "core/async.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "domain/account_service.h"
#include "domain/automation_flows.h"
#include "domain/automation_service.h"
#include "domain/export_links.h"
#include "domain/partner_service.h"
#include "domain/rate_limiter.h"
#include "domain/run_service.h"
#include "domain/store.h"
#include "domain/template_service.h"
#include "http/router.h"

namespace weft::api {

// What the /v1 handlers need, wired by main.cpp.
struct ApiDeps {
    Store& store;
    PartnerService& partners;
    AccountService& accounts;
    RateLimiter& rate_limiter;
    const Clock& clock;
    MetricsRegistry& metrics;
    std::string public_url;             // "https://weft.example.com"; empty: built from the request's Host
    OffsetClock* test_clock = nullptr;  // set only with --test-clock: enables POST /_test/clock
    std::function<bool()> draining;     // readiness goes false while the server drains
    AutomationService* automations = nullptr;
    RunService* runs = nullptr;
    TemplateService* templates = nullptr;
    AutomationFlows* flows = nullptr;
    AsyncRuntime* runtime = nullptr;
    connectors::ConnectorService* connectors = nullptr;
    connectors::OAuthFlow* oauth = nullptr;          // datasource authorisation links and the OAuth callback
    std::chrono::milliseconds sync_timeout{55'000};  // how long a sync run call waits before answering 202
    std::size_t trigger_max_body = 64 * 1024;        // payload limit of triggered calls (413 beyond)
    const ExportLinks* export_links = nullptr;       // signs and checks run export links (section 9)
};

// The one route table: every method and path Weft serves.
void RegisterRoutes(http::Router& router, ApiDeps& deps);
// Only the routes outside /v1 (health, readiness, metrics; the test clock): what `weft worker` serves.
void RegisterSystemRoutes(http::Router& router, ApiDeps& deps);

// The OpenAPI 3.1 document (src/api/openapi.json, embedded at build time).
const std::string& OpenApiDocument();

}  // namespace weft::api
