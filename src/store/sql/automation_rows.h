#pragma once

#include <string>

#include "core/result.h"
#include "domain/entities.h"
#include "store/sql/sql_db.h"

// The automations table's row mapping, shared by the store files that read or insert automations.
namespace weft::sql {

// "SELECT <every automation column> FROM automations b JOIN accounts a ON a.id = b.account_id "
std::string AutomationSelect();
Automation ReadAutomationRow(const Statement& s);
// Inserts `b` (its id is ignored) and returns the new id; a duplicate name in the account is a conflict.
Result<std::int64_t> InsertAutomation(Connection& c, const Automation& b);

}  // namespace weft::sql
