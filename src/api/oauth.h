#pragma once

#include <string>
#include <string_view>

#include "api/api.h"
#include "connectors/oauth_flow.h"
#include "http/message.h"
#include "http/router.h"

namespace weft::api {

// Section 11: datasource authorisation (OAuth2 authorization code flow), outside /v1 and without partner
// credentials: the link's JWT, then the `state`, are the credentials. Both answer the browser: a redirect, or an
// HTML page (the pop-up page that tells its opener and closes, or a page saying what went wrong).
constexpr const char* kOAuthCallbackPath = "/datasources/oauth/callback";

// GET /datasources/{datasource}/link?jwt=...
void DatasourceLink(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond);
// GET /datasources/oauth/callback?code=...&state=... (or ?error=...&state=...)
void OAuthCallback(ApiDeps& deps, http::Request& req, http::Respond respond);

// The response for a step of the flow (pure; unit-tested).
http::Response FlowResponse(const connectors::FlowPage& page);

// Text for HTML (& < > " ').
std::string HtmlEscape(std::string_view text);

}  // namespace weft::api
