#include "api/oauth.h"

#include <spdlog/spdlog.h>

#include "api/paging.h"

namespace weft::api {

namespace {

const char* Title(int status) {
    switch (status) {
        case 200:
            return "Connected";
        case 401:
            return "This link is not valid";
        case 404:
            return "Datasource not found";
        case 409:
            return "Already connected";
        case 502:
        case 504:
            return "The authorization server failed";
        case 500:
        case 503:
            return "Something went wrong";
        default:
            return "Authorisation failed";
    }
}

// A JSON string literal that is safe inside <script> (no "</script>" or "<!--" can appear).
std::string ScriptString(std::string_view text) {
    std::string out = ToJson(json::value(json::string_view(text.data(), text.size())));
    std::string safe;
    for (char c : out) {
        if (c == '<') {
            safe += "\\u003c";
        } else if (c == '>') {
            safe += "\\u003e";
        } else if (c == '&') {
            safe += "\\u0026";
        } else {
            safe += c;
        }
    }
    return safe;
}

std::string Page(int status, const std::string& message, const std::string& script) {
    const std::string title = Title(status);
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           HtmlEscape(title) +
           "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 "
           "1rem;color:#222}h1{font-size:1.4rem}</style>\n</head>\n<body>\n<h1>" +
           HtmlEscape(title) + "</h1>\n<p id=\"message\">" + HtmlEscape(message) + "</p>\n" + script +
           "</body>\n</html>\n";
}

void Finish(http::Respond& respond, const std::string& request_id, const connectors::FlowPage& page) {
    if (!page.log_detail.empty()) {
        spdlog::error("datasource authorisation (request {}) failed: {}", request_id, page.log_detail);
    }
    respond(FlowResponse(page));
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

http::Response FlowResponse(const connectors::FlowPage& page) {
    http::Response r;
    r.status = page.status;
    r.content_type = "text/html; charset=utf-8";
    // The link carries its token and the callback the code and state in the URL: keep them out of caches and
    // of the Referer the next page (the authorization server, the partner's redirect_url) would receive.
    r.SetHeader("Cache-Control", "no-store");
    r.SetHeader("Referrer-Policy", "no-referrer");
    r.SetHeader("X-Content-Type-Options", "nosniff");
    if (page.status == 302) {
        r.SetHeader("Location", page.location);
        return r;
    }
    std::string script;
    if (page.connected) {
        // The pop-up variant: tell the window that opened it, then close.
        script = "<script>\n(function () {\n  var message = {type: 'weft:datasource-connected', guid: " +
                 ScriptString(page.datasource_guid) +
                 "};\n  if (window.opener) window.opener.postMessage(message, '*');\n  window.close();\n})();\n"
                 "</script>\n";
    } else if (!page.datasource_guid.empty()) {
        script = "<script>\n(function () {\n  var message = {type: 'weft:datasource-error', guid: " +
                 ScriptString(page.datasource_guid) + ", error: " + ScriptString(page.message) +
                 "};\n  if (window.opener) window.opener.postMessage(message, '*');\n})();\n</script>\n";
    }
    const std::string message = page.connected ? page.message + " You can close this window." : page.message;
    r.body = Page(page.status, message, script);
    return r;
}

void DatasourceLink(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond) {
    if (deps.oauth == nullptr) {
        return respond(FlowResponse(
            connectors::FlowPage{503, {}, "Datasource authorisation is not available here.", {}, false, {}}));
    }
    const std::string* jwt = req.Query("jwt");
    const std::string callback = BaseUrl(req, deps.public_url) + kOAuthCallbackPath;
    Finish(respond, req.request_id, deps.oauth->Begin(params.at("datasource"), jwt ? *jwt : "", callback));
}

void OAuthCallback(ApiDeps& deps, http::Request& req, http::Respond respond) {
    if (deps.oauth == nullptr) {
        return respond(FlowResponse(
            connectors::FlowPage{503, {}, "Datasource authorisation is not available here.", {}, false, {}}));
    }
    connectors::OAuthFlow::Callback cb;
    auto get = [&req](const char* name) {
        const std::string* v = req.Query(name);
        return v ? *v : std::string();
    };
    cb.code = get("code");
    cb.state = get("state");
    cb.error = get("error");
    cb.error_description = get("error_description");
    deps.oauth->Complete(cb, [respond = std::move(respond), id = req.request_id](connectors::FlowPage page) mutable {
        Finish(respond, id, page);
    });
}

}  // namespace weft::api
