#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "store/open_store.h"
#include "support/temp_dir.h"

// Every store test runs on both backends: SQLite always, PostgreSQL on the server WEFT_TEST_PG_URL names
// (scripts/pg-test-cluster.sh starts a throwaway one; scripts/test.sh and CI always do). Without that variable
// the PostgreSQL cases are skipped, unless WEFT_TEST_PG_REQUIRED=1 (CI), which makes them fail instead.
namespace weft::testing {

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// The URL of database `name` on the server of `url` (postgres://user@host:port/db?params).
inline std::string WithDatabase(const std::string& url, const std::string& name) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const auto query = url.find('?');
    std::string out = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
    out += "/" + name;
    if (query != std::string::npos) out += url.substr(query);
    return out;
}

// Fresh databases for one test, removed afterwards: files in a temp folder, or PostgreSQL databases with
// random names on the test server.
class TestBackend {
  public:
    explicit TestBackend(Backend backend) : backend_(backend) {
        if (backend_ == Backend::kPostgres) {
            const char* url = std::getenv("WEFT_TEST_PG_URL");
            if (url && *url) server_url_ = url;
        }
    }
    ~TestBackend() {
        for (const auto& [name, db] : databases_) Admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    }
    TestBackend(const TestBackend&) = delete;
    TestBackend& operator=(const TestBackend&) = delete;

    Backend backend() const { return backend_; }
    bool available() const { return backend_ == Backend::kSqlite || !server_url_.empty(); }
    static bool required() {
        const char* r = std::getenv("WEFT_TEST_PG_REQUIRED");
        return r && std::string(r) == "1";
    }

    // The --database URL of this test's database `name` (created on first use).
    std::string Url(const std::string& name = "main") {
        if (backend_ == Backend::kSqlite) return "sqlite://" + dir_.File(name + ".db");
        auto it = databases_.find(name);
        if (it == databases_.end()) {
            std::random_device rd;
            const std::string db = "weft_test_" + std::to_string(rd()) + std::to_string(rd());
            Admin("CREATE DATABASE " + db);
            it = databases_.emplace(name, db).first;
        }
        return WithDatabase(server_url_, it->second);
    }

    std::unique_ptr<SqlStore> Open(int connections, bool migrate, const std::string& name = "main",
                                   std::optional<std::chrono::milliseconds> lookup_recheck = std::nullopt) {
        return OpenStore(Url(name), "", connections, migrate, lookup_recheck);
    }

  private:
    void Admin(const std::string& sql) {
        PGconn* c = PQconnectdb(server_url_.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            std::string msg = PQerrorMessage(c);
            PQfinish(c);
            throw std::runtime_error("test PostgreSQL server unreachable: " + msg);
        }
        PGresult* r = PQexec(c, sql.c_str());
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        PQfinish(c);
        if (!ok) throw std::runtime_error(sql + ": " + msg);
    }

    Backend backend_;
    std::string server_url_;
    TempDir dir_;
    std::map<std::string, std::string> databases_;
};

}  // namespace weft::testing

// In a fixture's SetUp: skips (or, with WEFT_TEST_PG_REQUIRED=1, fails) when the backend is not configured.
#define WEFT_REQUIRE_BACKEND(tb)                                                                               \
    do {                                                                                                       \
        if (!(tb).available()) {                                                                               \
            if (::weft::testing::TestBackend::required()) {                                                    \
                FAIL() << "WEFT_TEST_PG_REQUIRED=1 but WEFT_TEST_PG_URL names no PostgreSQL server";           \
            }                                                                                                  \
            GTEST_SKIP() << "no PostgreSQL configured (set WEFT_TEST_PG_URL, see scripts/pg-test-cluster.sh)"; \
        }                                                                                                      \
    } while (0)
