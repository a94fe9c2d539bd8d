#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sql/sql_db.h"

// The PostgreSQL backend of the sql layer (libpq): a pool of connections, each with its own prepared
// statements; `?` / `?N` placeholders become `$N` when a statement is prepared; parameters and results travel
// in text format.
namespace weft::pg {

class Connection;

class Cursor final : public sql::Cursor {
  public:
    Cursor(Connection& conn, std::string name, std::string sql, int params);
    ~Cursor() override;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;

    void BindInt(int index, std::int64_t v) override { Param(index) = std::to_string(v); }
    void BindText(int index, std::string_view v) override { Param(index) = std::string(v); }
    void BindNull(int index) override { Param(index).reset(); }
    Result<bool> Step() override;
    std::int64_t Int(int col) const override;
    bool IsNull(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
    std::string Text(int col) const override;
    void Reset() override;

  private:
    std::optional<std::string>& Param(int index);

    Connection& conn_;
    std::string name_;
    std::string sql_;  // as translated, for error messages
    std::vector<std::optional<std::string>> params_;
    PGresult* res_ = nullptr;
    bool executed_ = false;
    int row_ = -1;
    int rows_ = 0;
};

// One libpq connection. Throws std::runtime_error when it cannot connect.
class Connection final : public sql::Connection {
  public:
    explicit Connection(const std::string& url);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
    sql::Cursor& Prepare(std::string_view sql) override;
    std::int64_t LastInsertId() override;
    int Changes() const override { return changes_; }
    void Exec(const std::string& sql) override;

    PGconn* handle() const { return conn_; }
    bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
    // Runs a statement without parameters or results (BEGIN, COMMIT...); records its SQLSTATE on failure.
    Status Command(const char* sql);
    // The SQLSTATE of the first failure since ClearFailure (empty when none).
    const std::string& first_failure() const { return first_failure_; }
    void ClearFailure() { first_failure_.clear(); }

    // Maps a failed result to an Error (and records its SQLSTATE): integrity violations become conflicts;
    // serialization failures, deadlocks and lost connections unavailable.
    Error Failure(const PGresult* res, std::string_view what);
    void SetChanges(const PGresult* res);

    std::chrono::steady_clock::time_point last_used;

  private:
    PGconn* conn_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<Cursor>> statements_;
    int changes_ = 0;
    std::string first_failure_;
};

// `?` and `?N` placeholders (never both) to `$N`, skipping quoted text and comments; also returns how many
// parameters the statement has.
std::pair<std::string, int> TranslatePlaceholders(std::string_view sql);

// The database: a pool of up to `pool_size` connections, opened on demand. A connection idle for a while is
// checked before use, a broken one is replaced, and a transaction that failed on a serialization conflict,
// a deadlock or a lost connection (before its commit) runs again on a fresh snapshot.
class Database final : public sql::Database {
  public:
    // Connects once to fail fast on a bad URL; throws std::runtime_error when that fails.
    Database(std::string url, int pool_size);
    ~Database() override;

    sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
    const std::string& url() const { return url_; }

  protected:
    WriteOutcome RunWrite(const std::function<bool(sql::Connection&)>& fn) override;
    WriteOutcome RunAutocommit(const std::function<bool(sql::Connection&)>& fn) override;
    WriteOutcome RunStatement(const std::function<bool(sql::Connection&)>& fn) override;
    Status RunRead(const std::function<void(sql::Connection&)>& fn, bool snapshot) override;

  private:
    Result<std::unique_ptr<Connection>> Acquire();
    void Release(std::unique_ptr<Connection> conn);

    std::string url_;
    int pool_size_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> free_;
    int open_ = 0;  // connections in use or free
};

// True for the SQLSTATEs after which a transaction should simply run again.
bool Retryable(std::string_view sqlstate);

}  // namespace weft::pg
