#include "api/views.h"

#include "core/time_format.h"

namespace weft::api {

namespace {

json::value OptTime(const std::optional<Micros>& t) {
    return t ? json::value(FormatTimestamp(*t)) : json::value(nullptr);
}

json::value OptText(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }

}  // namespace

json::object AccountView(const Account& a) {
    json::object o;
    o["guid"] = a.guid;
    o["externalid"] = a.externalid;
    o["name"] = a.name;
    o["expired"] = a.expired;
    o["expired_at"] = OptTime(a.expired_at);
    o["created_at"] = FormatTimestamp(a.created_at);
    o["updated_at"] = FormatTimestamp(a.updated_at);
    return o;
}

json::object UserView(const User& u) {
    json::object o;
    o["guid"] = u.guid;
    o["externalid"] = OptText(u.externalid);
    o["name"] = OptText(u.name);
    o["email"] = OptText(u.email);
    o["locale"] = OptText(u.locale);
    o["created_at"] = FormatTimestamp(u.created_at);
    o["updated_at"] = FormatTimestamp(u.updated_at);
    return o;
}

}  // namespace weft::api
