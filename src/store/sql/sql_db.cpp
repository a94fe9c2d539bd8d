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

std::string TextArrayLiteral(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char ch : item) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::string IntArrayLiteral(const std::vector<std::int64_t>& items) {
    std::string out = "{";
    for (const auto item : items) {
        if (out.size() > 1) out += ',';
        out += std::to_string(item);
    }
    out += '}';
    return out;
}

}  // namespace weft::sql
