#include "store/open_store.h"

#include <stdexcept>

#include "store/postgres/pg_db.h"
#include "store/sqlite/sqlite_db.h"

namespace weft {

bool IsPostgresUrl(const std::string& url) {
    return url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("host=") ||
           url.starts_with("dbname=");
}

std::unique_ptr<SqlStore> OpenStore(const std::string& url, const std::string& default_sqlite_path, int connections,
                                    bool migrate, std::optional<std::chrono::milliseconds> lookup_recheck) {
    if (IsPostgresUrl(url)) {
        return std::make_unique<SqlStore>(std::make_unique<pg::Database>(url, connections), migrate, lookup_recheck);
    }
    std::string path;
    if (url.empty()) {
        path = default_sqlite_path;
    } else if (url.starts_with("sqlite://")) {
        path = url.substr(9);
    } else if (url.starts_with("sqlite:")) {
        path = url.substr(7);
    } else {
        throw std::runtime_error("unsupported database URL '" + url +
                                 "' (expected sqlite:///path/to/weft.db or postgres://user@host:port/dbname)");
    }
    if (path.empty()) throw std::runtime_error("the database URL names no file");
    return std::make_unique<SqlStore>(std::make_unique<sqlite::Database>(path, connections), migrate, lookup_recheck);
}

}  // namespace weft
