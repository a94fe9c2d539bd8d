#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "store/sql/sql_db.h"

namespace weft::sql {

// Runs a query expected to yield at most one row, read with `read`; not found when there is none.
template <typename T, typename Bind, typename ReadFn>
Result<T> QueryOne(Connection& c, std::string_view sql, Bind&& bind, ReadFn&& read, const char* what) {
    Statement s(c, sql);
    bind(s);
    auto row = s.Step();
    if (!row) return std::move(row).error();
    if (!*row) return Error::NotFound(std::string(what) + " not found.");
    return read(s);
}

template <typename T, typename Bind, typename ReadFn>
Result<std::vector<T>> QueryAll(Connection& c, std::string_view sql, Bind&& bind, ReadFn&& read) {
    Statement s(c, sql);
    bind(s);
    std::vector<T> out;
    while (true) {
        auto row = s.Step();
        if (!row) return std::move(row).error();
        if (!*row) return out;
        out.push_back(read(s));
    }
}

inline Result<std::int64_t> Count(Connection& c, std::string_view sql, auto&& bind) {
    Statement s(c, sql);
    bind(s);
    auto row = s.Step();
    if (!row) return std::move(row).error();
    return *row ? s.Int(0) : 0;
}

// The API's `{account}`, `{user}` and `{blend}` lookups: by guid when `key` looks like one, else (or when no
// row has that guid) by the natural key. `where` is the select with its scope conditions, ending in "AND ";
// `bind_scope` binds the scope's parameters; the key is bound last.
template <typename T, typename BindScope, typename ReadFn>
Result<T> QueryByGuidOr(Connection& c, const std::string& where, const char* guid_column, const char* key_column,
                        std::string_view key, BindScope&& bind_scope, ReadFn&& read, const char* what) {
    auto bind = [&](Statement& s) {
        bind_scope(s);
        s.Bind(key);
    };
    if (LooksLikeGuid(key)) {
        auto by_guid = QueryOne<T>(c, where + guid_column + " = ?", bind, read, what);
        if (by_guid || by_guid.error().code != ErrorCode::kNotFound) return by_guid;
    }
    return QueryOne<T>(c, where + key_column + " = ?", bind, read, what);
}

// A conflict error with the given public message; other errors pass through.
inline Error ConflictOr(Error e, const char* message) {
    if (e.code == ErrorCode::kConflict) e.message = message;
    return e;
}

}  // namespace weft::sql
