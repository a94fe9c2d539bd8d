#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "store/sql/sql_store.h"

namespace weft {

// True for postgres:// and postgresql:// URLs (and libpq's key=value connection strings starting "host=" or
// "dbname=").
bool IsPostgresUrl(const std::string& url);

// Opens the store a --database URL names: empty means `default_sqlite_path`; sqlite:///path or sqlite:path
// a SQLite file; postgres://... a PostgreSQL database. `connections` is the SQLite reader count or the
// PostgreSQL pool size; `lookup_recheck` is SqlStore's (nothing: the store's default). Throws
// std::runtime_error with a clear message when it cannot.
std::unique_ptr<SqlStore> OpenStore(const std::string& url, const std::string& default_sqlite_path, int connections,
                                    bool migrate,
                                    std::optional<std::chrono::milliseconds> lookup_recheck = std::nullopt);

}  // namespace weft
