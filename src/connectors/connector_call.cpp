#include "connectors/connector_call.h"

#include <algorithm>
#include <cctype>

#include "connectors/placeholders.h"
#include "core/crypto.h"
#include "engine/value.h"

namespace weft::connectors {

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view HeaderValue(const engine::HeaderList& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (Lower(k) == Lower(name)) return v;
    }
    return {};
}

void SetHeader(engine::HeaderList& headers, const std::string& name, std::string value) {
    for (auto& [k, v] : headers) {
        if (Lower(k) == Lower(name)) {
            v = std::move(value);
            return;
        }
    }
    headers.emplace_back(name, std::move(value));
}

std::string AppendParam(const std::string& url, const std::string& name, const std::string& value) {
    const auto hash = url.find('#');
    std::string base = hash == std::string::npos ? url : url.substr(0, hash);
    base += base.find('?') == std::string::npos ? '?' : '&';
    return base + PercentEncode(name) + "=" + PercentEncode(value);
}

std::string QueryText(const json::value& v) {
    if (v.is_array()) {
        std::string out;
        for (const auto& item : v.get_array()) {
            if (!out.empty()) out += ",";
            out += engine::ToText(item);
        }
        return out;
    }
    return engine::ToText(v);
}

// The URL of the `rel="next"` entry of an RFC 8288 Link header, or "".
std::string NextLink(std::string_view header) {
    std::size_t i = 0;
    while (i < header.size()) {
        const auto open = header.find('<', i);
        if (open == std::string_view::npos) break;
        const auto close = header.find('>', open);
        if (close == std::string_view::npos) break;
        const auto end = header.find(',', close);
        const std::string params =
            Lower(header.substr(close + 1, end == std::string_view::npos ? end : end - close - 1));
        if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos) {
            return std::string(header.substr(open + 1, close - open - 1));
        }
        if (end == std::string_view::npos) break;
        i = end + 1;
    }
    return {};
}

std::string TypeError(const ParamSpec& p, const json::value& v) {
    if (v.is_null()) return {};
    if (p.type == "number") {
        if (!engine::ToNumber(v)) return "must be a number";
    } else if (p.type == "boolean") {
        if (v.is_bool()) return {};
        if (v.is_string() && (v.get_string() == "true" || v.get_string() == "false")) return {};
        return "must be true or false";
    } else if (p.type == "select") {
        const std::string text = engine::ToText(v);
        if (std::find(p.options.begin(), p.options.end(), text) == p.options.end()) {
            std::string list;
            for (const auto& o : p.options) list += (list.empty() ? "" : ", ") + o;
            return "must be one of: " + list;
        }
    } else if (p.type == "object") {
        if (!v.is_object() && !v.is_array()) return "must be an object or a list";
    } else if (v.is_object() || v.is_array()) {
        return "must be text";
    }
    return {};
}

bool Missing(const json::value* v) {
    return v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty());
}

void ApplyAuthImpl(const AuthSpec& auth, const Credentials& c, bool mask, std::string& url,
                   engine::HeaderList& headers) {
    auto param = [&](const std::string& name) -> std::string {
        const auto* v = c.params.if_contains(name);
        if (v == nullptr || v->is_null()) return {};
        return engine::ToText(*v);
    };
    auto secret = [&](const std::string& name) { return mask ? std::string(kMasked) : param(name); };
    // An optional key or token left empty sends no credentials (a generic connector used without them).
    if ((auth.type == AuthType::kApiKey || auth.type == AuthType::kBearer) && param(auth.param).empty()) return;
    switch (auth.type) {
        case AuthType::kNone:
            return;
        case AuthType::kApiKey:
            if (auth.in == "query") {
                url = AppendParam(url, auth.name, auth.prefix + secret(auth.param));
            } else {
                SetHeader(headers, auth.name, auth.prefix + secret(auth.param));
            }
            return;
        case AuthType::kBearer:
            SetHeader(headers, "Authorization", (auth.prefix.empty() ? "Bearer " : auth.prefix) + secret(auth.param));
            return;
        case AuthType::kBasic:
            SetHeader(headers, "Authorization",
                      mask ? std::string("Basic ") + kMasked
                           : "Basic " + Base64Encode(param(auth.username_param) + ":" +
                                                     (auth.password_param.empty() ? "" : param(auth.password_param))));
            return;
        case AuthType::kOAuth2ClientCredentials:
        case AuthType::kOAuth2AuthorizationCode:
            SetHeader(headers, "Authorization",
                      (auth.prefix.empty() ? "Bearer " : auth.prefix) + (mask ? std::string(kMasked) : c.access_token));
            return;
    }
}

}  // namespace

std::string UrlOrigin(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    const auto end = url.find_first_of("/?#", scheme + 3);
    return Lower(url.substr(0, end));
}

void ApplyAuth(const AuthSpec& auth, const Credentials& credentials, std::string& url, engine::HeaderList& headers) {
    ApplyAuthImpl(auth, credentials, false, url, headers);
}

Result<json::object> CheckEndpointParams(const EndpointSpec& endpoint, const json::object& params) {
    std::string faults;
    auto fault = [&](const std::string& m) { faults += (faults.empty() ? "" : "; ") + m; };
    for (const auto& kv : params) {
        const bool known = std::any_of(endpoint.params.begin(), endpoint.params.end(),
                                       [&](const ParamSpec& p) { return p.name == kv.key(); });
        if (!known)
            fault("params." + std::string(kv.key()) + ": the endpoint '" + endpoint.key + "' has no such param");
    }
    json::object out;
    for (const auto& p : endpoint.params) {
        const json::value* v = params.if_contains(p.name);
        if (Missing(v) && !p.default_value.is_null()) v = &p.default_value;
        if (Missing(v)) {
            if (p.required) fault("params." + p.name + ": is required");
            continue;
        }
        if (auto e = TypeError(p, *v); !e.empty()) {
            fault("params." + p.name + ": " + e);
            continue;
        }
        out[p.name] = *v;
    }
    if (!faults.empty()) return Error::Invalid(faults);
    return out;
}

FieldErrors CheckDatasourceParams(const ConnectorDef& def, const json::object& params, bool partial) {
    FieldErrors faults;
    for (const auto& kv : params) {
        if (def.FindParam(kv.key()) == nullptr) {
            faults["params." + std::string(kv.key())].push_back("the connector '" + def.key + "' has no such param");
        }
    }
    for (const auto& p : def.params) {
        const json::value* v = params.if_contains(p.name);
        if (Missing(v)) {
            if (p.required && !partial && p.default_value.is_null())
                faults["params." + p.name].push_back("is required");
            continue;
        }
        if (auto e = TypeError(p, *v); !e.empty()) faults["params." + p.name].push_back(e);
    }
    return faults;
}

Result<ConnectorCall> ConnectorCall::Start(const ConnectorDef& def, const std::string& endpoint,
                                           const json::object& params, Credentials credentials,
                                           std::int64_t timeout_ms) {
    const EndpointSpec* ep = def.FindEndpoint(endpoint);
    if (ep == nullptr) {
        std::string keys;
        for (const auto& e : def.endpoints) keys += (keys.empty() ? "" : ", ") + e.key;
        return Error::Invalid("endpoint: the connector '" + def.key + "' has no endpoint '" + endpoint +
                              "' (it has: " + keys + ")");
    }
    auto checked = CheckEndpointParams(*ep, params);
    if (!checked) return std::move(checked).error();
    json::object values = std::move(*checked);
    // Templates see the endpoint's params first, then the datasource's non-secret params.
    const ParamLookup lookup = [&](std::string_view name) -> const json::value* {
        if (const auto* v = values.if_contains(name)) return v;
        const ParamSpec* p = def.FindParam(name);
        if (p == nullptr || p->secret) return nullptr;
        if (const auto* v = credentials.params.if_contains(name); v != nullptr && !v->is_null()) return v;
        return p->default_value.is_null() ? nullptr : &p->default_value;
    };
    ConnectorCall call;
    call.def_ = &def;
    call.endpoint_ = ep;
    call.method_ = ep->method;
    call.timeout_ms_ = timeout_ms;
    const std::string base = ExpandText(def.base_url, lookup, false);
    call.origin_ = UrlOrigin(base);
    if (call.origin_.rfind("http://", 0) != 0 && call.origin_.rfind("https://", 0) != 0) {
        return Error::Invalid("the connector's base URL '" + base +
                              "' is not an http:// or https:// URL (check the datasource's params)");
    }
    std::string url = base;
    if (!url.empty() && url.back() == '/') url.pop_back();
    url += ExpandPath(ep->path, lookup);
    const json::value query = ExpandValue(ep->query, lookup);
    for (const auto& kv : query.get_object()) {
        const std::string text = QueryText(kv.value());
        if (!text.empty()) url = AppendParam(url, kv.key(), text);
    }
    call.url_ = std::move(url);
    for (const auto* h : {&def.headers, &ep->headers}) {
        for (const auto& kv : *h) {
            if (!kv.value().is_string()) continue;
            std::string value = ExpandText(kv.value().get_string(), lookup, false);
            if (!value.empty()) SetHeader(call.headers_, kv.key(), std::move(value));
        }
    }
    if (ep->body) {
        const json::value body = ExpandValue(*ep->body, lookup);
        if (ep->body_format == "form" && body.is_object()) {
            std::string form;
            for (const auto& kv : body.get_object()) {
                if (!form.empty()) form += "&";
                form += PercentEncode(kv.key()) + "=" + PercentEncode(engine::ToText(kv.value()));
            }
            call.body_ = std::move(form);
            if (HeaderValue(call.headers_, "Content-Type").empty()) {
                SetHeader(call.headers_, "Content-Type", "application/x-www-form-urlencoded");
            }
        } else {
            call.body_ = ToJson(body);
            if (HeaderValue(call.headers_, "Content-Type").empty()) {
                SetHeader(call.headers_, "Content-Type", "application/json");
            }
        }
    }
    if (HeaderValue(call.headers_, "Accept").empty()) SetHeader(call.headers_, "Accept", "application/json");
    call.page_ = ep->pagination.start;
    call.credentials_ = std::move(credentials);
    if (ep->pagination.style == PaginationStyle::kPage) {
        call.SetQuery(ep->pagination.page_param, std::to_string(call.page_));
        if (!ep->pagination.size_param.empty()) {
            call.SetQuery(ep->pagination.size_param, std::to_string(ep->pagination.size));
        }
    }
    return call;
}

void ConnectorCall::SetQuery(const std::string& name, const std::string& value) {
    // Replace the parameter when the URL has it already (the next page of the same query).
    const auto q = url_.find('?');
    if (q != std::string::npos) {
        std::string rebuilt = url_.substr(0, q);
        std::string rest = url_.substr(q + 1);
        std::string kept;
        std::size_t i = 0;
        while (i <= rest.size()) {
            auto amp = rest.find('&', i);
            if (amp == std::string::npos) amp = rest.size();
            std::string part = rest.substr(i, amp - i);
            if (!part.empty() && part.substr(0, part.find('=')) != PercentEncode(name)) {
                kept += (kept.empty() ? "" : "&") + part;
            }
            i = amp + 1;
        }
        url_ = kept.empty() ? rebuilt : rebuilt + "?" + kept;
    }
    url_ = AppendParam(url_, name, value);
}

engine::HttpRequestEffect ConnectorCall::request() const {
    engine::HttpRequestEffect e;
    e.method = method_;
    e.url = url_;
    e.headers = headers_;
    e.body = body_;
    e.timeout_ms = timeout_ms_;
    ApplyAuthImpl(def_->auth, credentials_, false, e.url, e.headers);
    return e;
}

json::value ConnectorCall::masked_request() const {
    std::string url = url_;
    engine::HeaderList headers = headers_;
    ApplyAuthImpl(def_->auth, credentials_, true, url, headers);
    json::object h;
    for (const auto& [k, v] : headers) h[k] = v;
    json::object out{{"method", method_}, {"url", url}, {"headers", std::move(h)}};
    if (!body_.empty()) out["body"] = body_;
    if (pages_ > 0) out["pages"] = pages_;
    return out;
}

engine::HttpResult ConnectorCall::Failure(const engine::HttpResponse& response, std::string message) const {
    engine::HttpResult r;
    r.response = response;
    r.error_message = std::move(message);
    r.request = masked_request();
    return r;
}

ConnectorCall::Next ConnectorCall::OnResponse(const engine::HttpResponse& response) {
    ++pages_;
    const std::string where = def_->name + " (" + endpoint_->key + ")";
    auto body = ParseJson(response.body);
    std::string remote;
    if (body && !def_->error_message_path.empty()) {
        if (const auto* m = AtPath(*body, def_->error_message_path); m != nullptr && !m->is_null()) {
            remote = engine::ToText(*m);
        }
    }
    if (response.status < 200 || response.status > 299) {
        std::string message = where + " answered HTTP " + std::to_string(response.status);
        if (response.status == 401 || response.status == 403) {
            message += " (check the datasource's credentials and permissions)";
        } else if (response.status == 404) {
            message += " (not found)";
        } else if (response.status == 429) {
            message += " (rate limited)";
        }
        if (!remote.empty()) message += ": " + remote;
        result_ = Failure(response, std::move(message));
        return Next::kDone;
    }
    if (!def_->success_path.empty() && body) {
        if (const auto* ok = AtPath(*body, def_->success_path); ok != nullptr && ok->is_bool() && !ok->get_bool()) {
            result_ = Failure(response, where + " reported an error" + (remote.empty() ? "" : ": " + remote));
            return Next::kDone;
        }
    }
    const PaginationSpec& pg = endpoint_->pagination;
    if (pg.style == PaginationStyle::kNone) {
        result_ = engine::HttpResult{};
        result_.request = masked_request();
        if (!endpoint_->result_path.empty()) {
            if (!body) {
                result_ = Failure(response, where + " did not answer with JSON");
                return Next::kDone;
            }
            const auto* v = AtPath(*body, endpoint_->result_path);
            result_.mapped = v == nullptr ? json::value(nullptr) : *v;
        } else {
            result_.response = response;
        }
        return Next::kDone;
    }
    if (!body) {
        result_ = Failure(response, where + " did not answer page " + std::to_string(pages_) + " with JSON");
        return Next::kDone;
    }
    const auto* items = AtPath(*body, pg.items_path);
    if (items == nullptr || !items->is_array()) {
        result_ = Failure(response, where + ": the response has no list at '" + pg.items_path + "'");
        return Next::kDone;
    }
    const auto& page_items = items->get_array();
    for (const auto& item : page_items) {
        if (static_cast<std::int64_t>(items_.size()) >= pg.max_items) break;
        items_.push_back(item);
    }
    auto done = [&] {
        result_ = engine::HttpResult{};
        result_.request = masked_request();
        result_.mapped = items_;
        return Next::kDone;
    };
    if (static_cast<std::int64_t>(items_.size()) >= pg.max_items || pages_ >= pg.max_pages || page_items.empty()) {
        return done();
    }
    auto follow = [&](const std::string& next) {
        std::string url = next;
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
            if (url.empty() || url[0] != '/') return false;
            url = origin_ + url;
        }
        if (UrlOrigin(url) != origin_) return false;
        url_ = std::move(url);
        return true;
    };
    switch (pg.style) {
        case PaginationStyle::kPage:
            if (pg.size > 0 && static_cast<std::int64_t>(page_items.size()) < pg.size) return done();
            ++page_;
            SetQuery(pg.page_param, std::to_string(page_));
            return Next::kSend;
        case PaginationStyle::kCursor: {
            std::string cursor;
            if (!pg.cursor_item_field.empty()) {
                const auto* more = AtPath(*body, pg.has_more_path);
                if (more == nullptr || !engine::IsTruthy(*more)) return done();
                if (const auto* id = AtPath(page_items.back(), pg.cursor_item_field)) cursor = engine::ToText(*id);
            } else if (const auto* next = AtPath(*body, pg.next_path); next != nullptr && !next->is_null()) {
                cursor = engine::ToText(*next);
            }
            if (cursor.empty()) return done();
            SetQuery(pg.cursor_param, cursor);
            return Next::kSend;
        }
        case PaginationStyle::kLinkHeader: {
            const std::string next = NextLink(HeaderValue(response.headers, "Link"));
            if (next.empty()) return done();
            if (!follow(next)) {
                result_ = Failure(response, where + ": refused to follow a next-page link to another host");
                return Next::kDone;
            }
            return Next::kSend;
        }
        case PaginationStyle::kNextUrl: {
            const auto* next = AtPath(*body, pg.next_path);
            if (next == nullptr || !next->is_string() || next->get_string().empty()) return done();
            if (!follow(std::string(next->get_string()))) {
                result_ = Failure(response, where + ": refused to follow a next-page link to another host");
                return Next::kDone;
            }
            return Next::kSend;
        }
        case PaginationStyle::kNone:
            break;
    }
    return done();
}

}  // namespace weft::connectors
