#include "connectors/connector_def.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <utility>

#include "connectors/placeholders.h"

namespace weft::connectors {

namespace {

constexpr std::array kAuthNames = {
    std::pair{AuthType::kNone, "none"},
    std::pair{AuthType::kApiKey, "api_key"},
    std::pair{AuthType::kBasic, "basic"},
    std::pair{AuthType::kBearer, "bearer"},
    std::pair{AuthType::kOAuth2ClientCredentials, "oAuth2 client credentials"},
    std::pair{AuthType::kOAuth2AuthorizationCode, "oAuth2 3-legged"},
};

constexpr std::array kPaginationNames = {
    std::pair{PaginationStyle::kNone, "none"},        std::pair{PaginationStyle::kPage, "page"},
    std::pair{PaginationStyle::kCursor, "cursor"},    std::pair{PaginationStyle::kLinkHeader, "link_header"},
    std::pair{PaginationStyle::kNextUrl, "next_url"},
};

bool IsKey(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

bool IsParamName(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

// Reads the fields of one JSON object, reporting wrong types and unknown keys as faults.
class Reader {
  public:
    Reader(const json::value* v, std::string path, FieldErrors& faults, const char* what)
        : path_(std::move(path)), faults_(faults) {
        if (v == nullptr) return;
        if (!v->is_object()) {
            Fault("", std::string("must be ") + what);
            return;
        }
        obj_ = &v->get_object();
    }
    bool ok() const { return obj_ != nullptr; }
    std::string Path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    void Fault(std::string_view key, std::string message) {
        faults_[key.empty() ? (path_.empty() ? "definition" : path_) : Path(key)].push_back(std::move(message));
    }
    const json::value* Get(std::string_view key) {
        seen_.insert(std::string(key));
        return obj_ ? obj_->if_contains(key) : nullptr;
    }
    std::string String(std::string_view key, bool required, std::string fallback = {}) {
        const auto* v = Get(key);
        if (v == nullptr || v->is_null()) {
            if (required) Fault(key, "is required");
            return fallback;
        }
        if (!v->is_string()) {
            Fault(key, "must be a string");
            return fallback;
        }
        if (required && v->get_string().empty()) Fault(key, "must not be empty");
        return std::string(v->get_string());
    }
    bool Bool(std::string_view key, bool fallback) {
        const auto* v = Get(key);
        if (v == nullptr || v->is_null()) return fallback;
        if (!v->is_bool()) {
            Fault(key, "must be true or false");
            return fallback;
        }
        return v->get_bool();
    }
    std::int64_t Int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
        const auto* v = Get(key);
        if (v == nullptr || v->is_null()) return fallback;
        std::int64_t n = 0;
        if (v->is_int64()) {
            n = v->get_int64();
        } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
            n = static_cast<std::int64_t>(v->get_uint64());
        } else {
            Fault(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return fallback;
        }
        if (n < min || n > max) {
            Fault(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return fallback;
        }
        return n;
    }
    json::object Object(std::string_view key) {
        const auto* v = Get(key);
        if (v == nullptr || v->is_null()) return {};
        if (!v->is_object()) {
            Fault(key, "must be an object");
            return {};
        }
        return v->get_object();
    }
    const json::array* Array(std::string_view key) {
        const auto* v = Get(key);
        if (v == nullptr || v->is_null()) return nullptr;
        if (!v->is_array()) {
            Fault(key, "must be a list");
            return nullptr;
        }
        return &v->get_array();
    }
    void RejectUnknown() {
        if (!obj_) return;
        for (const auto& kv : *obj_) {
            if (!seen_.count(std::string(kv.key()))) Fault(kv.key(), "is not a known field");
        }
    }

  private:
    std::string path_;
    FieldErrors& faults_;
    const json::object* obj_ = nullptr;
    std::set<std::string> seen_;
};

// Connector params (a datasource's) have the API's types; endpoint params may also take an object (a body).
std::vector<ParamSpec> ReadParams(Reader& parent, std::string_view key, FieldErrors& faults, bool endpoint) {
    std::vector<ParamSpec> out;
    const auto* list = parent.Array(key);
    if (list == nullptr) return out;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i) {
        Reader r(&(*list)[i], parent.Path(key) + "[" + std::to_string(i) + "]", faults, "an object");
        if (!r.ok()) continue;
        ParamSpec p;
        p.name = r.String("name", true);
        if (!p.name.empty() && !IsParamName(p.name)) r.Fault("name", "must be letters, digits and _ (at most 64)");
        if (!p.name.empty() && !names.insert(p.name).second) r.Fault("name", "'" + p.name + "' is declared twice");
        p.label = r.String("label", false, p.name);
        p.description = r.String("description", false);
        p.type = r.String("type", false, "string");
        static const std::set<std::string> kTypes = {"string", "password", "select", "number", "boolean"};
        if (!kTypes.count(p.type) && !(endpoint && p.type == "object")) {
            r.Fault("type", "'" + p.type + "' is not a param type (string, password, select, number, boolean" +
                                (endpoint ? ", object)" : ")"));
        }
        p.required = r.Bool("required", false);
        p.secret = r.Bool("secret", false) || p.type == "password";
        if (const auto* v = r.Get("example_value")) p.example_value = *v;
        if (const auto* v = r.Get("default")) p.default_value = *v;
        if (const auto* opts = r.Array("options")) {
            for (const auto& o : *opts) {
                if (o.is_string()) {
                    p.options.emplace_back(o.get_string());
                } else {
                    r.Fault("options", "must be a list of strings");
                    break;
                }
            }
        }
        if (p.type == "select" && p.options.empty()) r.Fault("options", "a select param needs its options");
        if (p.type != "select" && !p.options.empty()) r.Fault("options", "only select params have options");
        r.RejectUnknown();
        out.push_back(std::move(p));
    }
    return out;
}

template <typename Enum, std::size_t N>
std::optional<Enum> FromName(const std::array<std::pair<Enum, const char*>, N>& names, std::string_view s) {
    for (const auto& [e, n] : names) {
        if (s == n) return e;
    }
    return std::nullopt;
}

// Placeholders may name an endpoint param or a non-secret connector param.
void CheckPlaceholders(const json::value& v, const std::string& path, const ConnectorDef& def,
                       const std::vector<ParamSpec>* endpoint_params, FieldErrors& faults) {
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            CheckPlaceholders(kv.value(), path + "." + std::string(kv.key()), def, endpoint_params, faults);
        }
        return;
    }
    if (v.is_array()) {
        for (std::size_t i = 0; i < v.get_array().size(); ++i) {
            CheckPlaceholders(v.get_array()[i], path + "[" + std::to_string(i) + "]", def, endpoint_params, faults);
        }
        return;
    }
    if (!v.is_string()) return;
    for (const auto& name : PlaceholderNames(v.get_string())) {
        const ParamSpec* p = nullptr;
        if (endpoint_params != nullptr) {
            for (const auto& ep : *endpoint_params) {
                if (ep.name == name) p = &ep;
            }
        }
        if (p == nullptr) p = def.FindParam(name);
        if (p == nullptr) {
            faults[path].push_back("{" + name + "} names no param of the endpoint or the connector");
        } else if (p->secret) {
            faults[path].push_back("{" + name + "} is a secret param: secrets are applied only by authentication");
        }
    }
}

void ReadAuth(Reader& parent, ConnectorDef& def, FieldErrors& faults) {
    Reader r(parent.Get("authentication"), "authentication", faults, "an object");
    if (!r.ok()) {
        if (parent.Get("authentication") == nullptr) r.Fault("type", "is required");
        return;
    }
    AuthSpec& a = def.auth;
    const std::string type = r.String("type", true);
    if (auto t = FromName(kAuthNames, type)) {
        a.type = *t;
    } else if (!type.empty()) {
        r.Fault("type", "'" + type +
                            "' is not an authentication type (none, api_key, basic, bearer, oAuth2 client credentials, "
                            "oAuth2 3-legged)");
    }
    a.in = r.String("in", false, "header");
    if (a.in != "header" && a.in != "query") r.Fault("in", "must be header or query");
    a.name = r.String("name", false);
    a.prefix = r.String("prefix", false);
    a.param = r.String("param", false);
    a.username_param = r.String("username_param", false);
    a.password_param = r.String("password_param", false);
    a.authorize_url = r.String("authorize_url", false);
    a.token_url = r.String("token_url", false);
    if (const auto* scopes = r.Array("scopes")) {
        for (const auto& s : *scopes) {
            if (s.is_string())
                a.scopes.emplace_back(s.get_string());
            else
                r.Fault("scopes", "must be a list of strings");
        }
    }
    a.scope_separator = r.String("scope_separator", false, " ");
    a.client_id_param = r.String("client_id_param", false, "client_id");
    a.client_secret_param = r.String("client_secret_param", false, "client_secret");
    a.client_auth = r.String("client_auth", false, "body");
    if (a.client_auth != "body" && a.client_auth != "basic") r.Fault("client_auth", "must be body or basic");
    a.authorize_query = r.Object("authorize_query");
    r.RejectUnknown();

    auto needs_param = [&](const char* field, const std::string& name, bool want_secret) {
        if (name.empty()) {
            r.Fault(field, std::string("is required for ") + AuthTypeName(a.type) + " authentication");
            return;
        }
        const ParamSpec* p = def.FindParam(name);
        if (p == nullptr) {
            r.Fault(field, "'" + name + "' is not one of the connector's params");
        } else if (want_secret && !p->secret) {
            r.Fault(field, "'" + name + "' holds a credential: declare it with type password");
        }
    };
    auto needs_url = [&](const char* field, const std::string& url) {
        if (url.empty()) {
            r.Fault(field, std::string("is required for ") + AuthTypeName(a.type) + " authentication");
        } else if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0 && url.rfind("{", 0) != 0) {
            r.Fault(field, "must be an http:// or https:// URL");
        }
    };
    switch (a.type) {
        case AuthType::kNone:
            break;
        case AuthType::kApiKey:
            needs_param("param", a.param, true);
            if (a.name.empty()) r.Fault("name", "is required for api_key authentication (the header or query name)");
            break;
        case AuthType::kBearer:
            needs_param("param", a.param, true);
            break;
        case AuthType::kBasic:
            needs_param("username_param", a.username_param, false);
            if (!a.password_param.empty()) needs_param("password_param", a.password_param, true);
            break;
        case AuthType::kOAuth2AuthorizationCode:
            needs_url("authorize_url", a.authorize_url);
            [[fallthrough]];
        case AuthType::kOAuth2ClientCredentials:
            needs_url("token_url", a.token_url);
            needs_param("client_id_param", a.client_id_param, false);
            needs_param("client_secret_param", a.client_secret_param, true);
            break;
    }
    if (a.type != AuthType::kOAuth2AuthorizationCode && !a.authorize_url.empty()) {
        r.Fault("authorize_url", "only oAuth2 3-legged authentication has an authorize URL");
    }
}

PaginationSpec ReadPagination(Reader& parent, FieldErrors& faults) {
    PaginationSpec p;
    Reader r(parent.Get("pagination"), parent.Path("pagination"), faults, "an object");
    if (!r.ok()) return p;
    const std::string style = r.String("style", true);
    if (auto s = FromName(kPaginationNames, style)) {
        p.style = *s;
    } else if (!style.empty()) {
        r.Fault("style", "'" + style + "' is not a pagination style (none, page, cursor, link_header, next_url)");
    }
    p.items_path = r.String("items_path", false);
    p.page_param = r.String("page_param", false, "page");
    p.size_param = r.String("size_param", false);
    p.size = r.Int("size", 0, 0, 10000);
    p.start = r.Int("start", 1, 0, 1);
    p.cursor_param = r.String("cursor_param", false);
    p.next_path = r.String("next_path", false);
    p.cursor_item_field = r.String("cursor_item_field", false);
    p.has_more_path = r.String("has_more_path", false);
    p.max_pages = r.Int("max_pages", 50, 1, 1000);
    p.max_items = r.Int("max_items", 5000, 1, 100000);
    r.RejectUnknown();
    switch (p.style) {
        case PaginationStyle::kPage:
            if (!p.size_param.empty() && p.size == 0) r.Fault("size", "is required with size_param");
            break;
        case PaginationStyle::kCursor:
            if (p.cursor_param.empty()) r.Fault("cursor_param", "is required for cursor pagination");
            if (p.next_path.empty() == p.cursor_item_field.empty()) {
                r.Fault("next_path", "cursor pagination takes either next_path or cursor_item_field");
            }
            if (!p.cursor_item_field.empty() && p.has_more_path.empty()) {
                r.Fault("has_more_path", "is required with cursor_item_field");
            }
            break;
        case PaginationStyle::kNextUrl:
            if (p.next_path.empty()) r.Fault("next_path", "is required for next_url pagination");
            break;
        case PaginationStyle::kLinkHeader:
        case PaginationStyle::kNone:
            break;
    }
    return p;
}

void ReadEndpoints(Reader& parent, ConnectorDef& def, FieldErrors& faults) {
    const auto* list = parent.Array("endpoints");
    if (list == nullptr) return;
    std::set<std::string> keys;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string path = "endpoints[" + std::to_string(i) + "]";
        Reader r(&(*list)[i], path, faults, "an object");
        if (!r.ok()) continue;
        EndpointSpec e;
        e.key = r.String("key", true);
        if (!e.key.empty() && !IsKey(e.key)) r.Fault("key", "must be lower-case letters, digits, _ and - (at most 64)");
        if (!e.key.empty() && !keys.insert(e.key).second) r.Fault("key", "'" + e.key + "' is used twice");
        e.name = r.String("name", false, e.key);
        e.description = r.String("description", false);
        e.method = r.String("method", false, "GET");
        static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
        if (!kMethods.count(e.method))
            r.Fault("method", "'" + e.method + "' is not GET, POST, PUT, PATCH, DELETE or HEAD");
        e.path = r.String("path", false);
        if (!e.path.empty() && e.path[0] != '/') r.Fault("path", "must start with /");
        e.query = r.Object("query");
        e.headers = r.Object("headers");
        if (const auto* b = r.Get("body"); b != nullptr && !b->is_null()) e.body = *b;
        e.body_format = r.String("body_format", false, "json");
        if (e.body_format != "json" && e.body_format != "form") r.Fault("body_format", "must be json or form");
        if (e.body_format == "form" && e.body && !e.body->is_object()) {
            r.Fault("body", "a form body must be an object of fields");
        }
        e.params = ReadParams(r, "params", faults, true);
        for (const auto& p : e.params) {
            if (p.secret)
                r.Fault("params",
                        "'" + p.name + "': endpoint params cannot be secret (keep secrets in the datasource)");
        }
        e.pagination = ReadPagination(r, faults);
        e.result_path = r.String("result_path", false);
        if (!e.result_path.empty() && e.pagination.style != PaginationStyle::kNone) {
            r.Fault("result_path", "a paginated endpoint's result is its items (pagination.items_path)");
        }
        r.RejectUnknown();
        CheckPlaceholders(json::value(e.path), r.Path("path"), def, &e.params, faults);
        CheckPlaceholders(e.query, r.Path("query"), def, &e.params, faults);
        CheckPlaceholders(e.headers, r.Path("headers"), def, &e.params, faults);
        if (e.body) CheckPlaceholders(*e.body, r.Path("body"), def, &e.params, faults);
        def.endpoints.push_back(std::move(e));
    }
}

}  // namespace

const char* AuthTypeName(AuthType t) {
    for (const auto& [e, n] : kAuthNames) {
        if (e == t) return n;
    }
    return "none";
}

bool IsOAuth2(AuthType t) { return t == AuthType::kOAuth2ClientCredentials || t == AuthType::kOAuth2AuthorizationCode; }

const EndpointSpec* ConnectorDef::FindEndpoint(std::string_view k) const {
    for (const auto& e : endpoints) {
        if (e.key == k) return &e;
    }
    return nullptr;
}

const ParamSpec* ConnectorDef::FindParam(std::string_view n) const {
    for (const auto& p : params) {
        if (p.name == n) return &p;
    }
    return nullptr;
}

Result<ConnectorDef> ParseConnectorDef(const json::value& doc) {
    FieldErrors faults;
    ConnectorDef def;
    Reader r(&doc, "", faults, "a JSON object");
    if (!r.ok()) return Error::Validation(std::move(faults));
    def.key = r.String("key", true);
    if (!def.key.empty() && !IsKey(def.key)) r.Fault("key", "must be lower-case letters, digits, _ and - (at most 64)");
    def.name = r.String("name", true);
    def.description = r.String("description", false);
    def.base_url = r.String("base_url", true);
    if (!def.base_url.empty() && def.base_url.rfind("https://", 0) != 0 && def.base_url.rfind("http://", 0) != 0 &&
        def.base_url.rfind("{", 0) != 0) {
        r.Fault("base_url", "must be an http:// or https:// URL (or start with a {param})");
    }
    if (!def.base_url.empty() && def.base_url.back() == '/') r.Fault("base_url", "must not end with /");
    def.params = ReadParams(r, "params", faults, false);
    ReadAuth(r, def, faults);
    def.headers = r.Object("headers");
    def.error_message_path = r.String("error_message_path", false);
    def.success_path = r.String("success_path", false);
    ReadEndpoints(r, def, faults);
    r.RejectUnknown();
    CheckPlaceholders(json::value(def.base_url), "base_url", def, nullptr, faults);
    CheckPlaceholders(def.headers, "headers", def, nullptr, faults);
    if (!faults.empty()) return Error::Validation(std::move(faults));
    return def;
}

json::object ParamToJson(const ParamSpec& p) {
    json::array options;
    for (const auto& o : p.options) options.emplace_back(o);
    return json::object{{"name", p.name},
                        {"label", p.label},
                        {"description", p.description},
                        {"type", p.type},
                        {"example_value", p.example_value},
                        {"is_required", p.required},
                        {"is_secret", p.secret},
                        {"options", std::move(options)}};
}

json::array EndpointsToJson(const ConnectorDef& def) {
    json::array out;
    for (const auto& e : def.endpoints) {
        json::array params;
        for (const auto& p : e.params) params.push_back(ParamToJson(p));
        const char* style = "none";
        for (const auto& [s, n] : kPaginationNames) {
            if (s == e.pagination.style) style = n;
        }
        out.push_back(json::object{{"key", e.key},
                                   {"name", e.name},
                                   {"description", e.description},
                                   {"method", e.method},
                                   {"path", e.path},
                                   {"params", std::move(params)},
                                   {"pagination", style}});
    }
    return out;
}

const json::value* AtPath(const json::value& v, std::string_view path) {
    const json::value* cur = &v;
    std::size_t i = 0;
    while (i < path.size() && cur != nullptr) {
        if (path[i] == '.') {
            ++i;
            continue;
        }
        std::string part;
        bool index = false;
        if (path[i] == '[') {
            const auto close = path.find(']', i);
            if (close == std::string_view::npos) return nullptr;
            part = std::string(path.substr(i + 1, close - i - 1));
            index = true;
            i = close + 1;
        } else {
            const auto end = path.find_first_of(".[", i);
            part = std::string(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
            i = end == std::string_view::npos ? path.size() : end;
            index = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        }
        if (cur->is_array() && index) {
            if (part.size() > 9) return nullptr;
            const auto n = std::stoull(part);
            cur = n < cur->get_array().size() ? &cur->get_array()[n] : nullptr;
        } else if (cur->is_object()) {
            cur = cur->get_object().if_contains(part);
        } else {
            return nullptr;
        }
    }
    return cur;
}

}  // namespace weft::connectors
