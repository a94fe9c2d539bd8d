#include "api/body.h"

#include <strings.h>

namespace weft::api {

namespace {

bool IsJsonContentType(const std::string* ct) {
    if (!ct) return false;
    std::string_view v(*ct);
    const auto semi = v.find(';');
    v = v.substr(0, semi);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.size() == 16 && strncasecmp(v.data(), "application/json", 16) == 0) return true;
    // application/<anything>+json
    return v.size() > 17 && strncasecmp(v.data(), "application/", 12) == 0 &&
           strncasecmp(v.data() + v.size() - 5, "+json", 5) == 0;
}

Result<json::object> ParseObject(const http::Request& req) {
    if (!IsJsonContentType(req.Header("Content-Type"))) {
        return Error{
            ErrorCode::kUnsupportedMediaType, "Request bodies must be JSON (Content-Type: application/json).", {}, {}};
    }
    auto v = ParseJson(req.body);
    if (!v) return std::move(v).error();
    if (!v->is_object()) return Error::Invalid("The request body must be a JSON object.");
    return std::move(v->as_object());
}

}  // namespace

Result<json::object> ReadJsonObject(const http::Request& req) {
    if (req.body.empty()) return Error::Invalid("The request body is empty; a JSON object was expected.");
    return ParseObject(req);
}

Result<json::object> ReadOptionalJsonObject(const http::Request& req) {
    if (req.body.empty()) return json::object{};
    return ParseObject(req);
}

std::optional<std::string> ReadString(const json::object& o, const char* key, const std::string& path,
                                      FieldErrors& errors) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
        errors[path].push_back("must be a string");
        return std::nullopt;
    }
    return std::string(v->as_string());
}

NullableField ReadNullableString(const json::object& o, const char* key, const std::string& path, FieldErrors& errors) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) {
        errors[path].push_back("must be a string or null");
        return std::nullopt;
    }
    return std::optional<std::string>(std::string(v->as_string()));
}

std::optional<bool> ParseBoolText(std::string_view t) {
    if (t == "true" || t == "1") return true;
    if (t == "false" || t == "0") return false;
    return std::nullopt;
}

std::optional<bool> ReadBool(const json::object& o, const char* key, const std::string& path, FieldErrors& errors) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_bool()) return v->as_bool();
    if (v->is_int64() && (v->as_int64() == 0 || v->as_int64() == 1)) return v->as_int64() == 1;
    if (v->is_string()) {
        if (auto b = ParseBoolText(v->as_string())) return b;
    }
    errors[path].push_back("must be a boolean");
    return std::nullopt;
}

namespace {

UserInput ReadUserFields(const json::object& o, const std::string& prefix, FieldErrors& errors) {
    UserInput u;
    u.externalid = ReadNullableString(o, "externalid", prefix + "externalid", errors);
    u.name = ReadNullableString(o, "name", prefix + "name", errors);
    u.email = ReadNullableString(o, "email", prefix + "email", errors);
    u.locale = ReadNullableString(o, "locale", prefix + "locale", errors);
    return u;
}

}  // namespace

Result<AccountInput> ReadAccountInput(const json::object& body) {
    FieldErrors errors;
    AccountInput in;
    in.name = ReadString(body, "name", "name", errors);
    in.externalid = ReadString(body, "externalid", "externalid", errors);
    in.expired = ReadBool(body, "expired", "expired", errors);
    if (const json::value* user = body.if_contains("user"); user && !user->is_null()) {
        if (user->is_object()) {
            in.user = ReadUserFields(user->as_object(), "user.", errors);
        } else {
            errors["user"].push_back("must be an object");
        }
    }
    // `datasource` (alias `credentials`): the partner-connector credentials; checked for shape here, against the
    // partner's own connector by the handler.
    for (const char* key : {"datasource", "credentials"}) {
        if (const json::value* ds = body.if_contains(key); ds && !ds->is_null() && !ds->is_object()) {
            errors[key].push_back("must be an object of connector parameters");
        }
    }
    for (const char* key : {"send_invite", "invite"}) ReadBool(body, key, key, errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return in;
}

Result<UserInput> ReadUserInput(const json::object& body) {
    FieldErrors errors;
    UserInput u = ReadUserFields(body, "", errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return u;
}

}  // namespace weft::api
