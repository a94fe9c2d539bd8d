#pragma once

#include "core/json.h"
#include "domain/entities.h"

namespace weft::api {

// The wire shape of each entity (API.md): exact field names, explicit nulls.
json::object AccountView(const Account& a);
json::object UserView(const User& u);

}  // namespace weft::api
