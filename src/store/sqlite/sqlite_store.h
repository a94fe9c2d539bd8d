#pragma once

#include <memory>
#include <string>

#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_db.h"

namespace weft {

// The embedded default store: one SQLite file (created when missing) with `readers` reader connections.
class SqliteStore final : public SqlStore {
  public:
    SqliteStore(const std::string& path, int readers, bool migrate)
        : SqlStore(std::make_unique<sqlite::Database>(path, readers), migrate) {}
};

}  // namespace weft
