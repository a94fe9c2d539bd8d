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

namespace {

void AppendQuoted(std::string& out, std::string_view item) {
    out += '"';
    for (char ch : item) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '"';
}

template <typename T, typename Append>
std::string ArrayLiteral(const std::vector<T>& items, Append append) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        append(out, item);
    }
    out += '}';
    return out;
}

}  // namespace

std::string TextArrayLiteral(const std::vector<std::string>& items) {
    return ArrayLiteral(items, [](std::string& out, const std::string& item) { AppendQuoted(out, item); });
}

std::string IntArrayLiteral(const std::vector<std::int64_t>& items) {
    return ArrayLiteral(items, [](std::string& out, std::int64_t item) { out += std::to_string(item); });
}

std::string NullableTextArrayLiteral(const std::vector<std::optional<std::string>>& items) {
    return ArrayLiteral(items, [](std::string& out, const std::optional<std::string>& item) {
        if (item) {
            AppendQuoted(out, *item);
        } else {
            out += "NULL";
        }
    });
}

std::string NullableIntArrayLiteral(const std::vector<std::optional<std::int64_t>>& items) {
    return ArrayLiteral(items, [](std::string& out, const std::optional<std::int64_t>& item) {
        out += item ? std::to_string(*item) : "NULL";
    });
}

}  // namespace weft::sql
