#include "store/sql/sql_db.h"

namespace weft::sql {

Status Statement::Run() {
    while (true) {
        auto r = Step();
        if (!r) return std::move(r).error();
        if (!*r) return Ok();
    }
}

std::optional<std::string> Statement::OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
}

std::optional<std::int64_t> Statement::OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
}

}  // namespace weft::sql
