#pragma once

#include "api/api.h"

namespace weft::api {

// Section 8: triggered automations at /v1/widgets/{blend}, authenticated by the execution token.
void TriggerWidget(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond);

}  // namespace weft::api
