#pragma once

#include "api/api.h"

namespace weft::api {

// Outside /v1 (section 11): health, readiness, metrics, the OpenAPI document, and the test clock.
void HealthZ(const http::Request& req, http::Respond respond);
void ReadyZ(ApiDeps& deps, const http::Request& req, http::Respond respond);
void Metrics(ApiDeps& deps, const http::Request& req, http::Respond respond);
void OpenApi(const http::Request& req, http::Respond respond);
void AdvanceTestClock(ApiDeps& deps, const http::Request& req, http::Respond respond);

}  // namespace weft::api
