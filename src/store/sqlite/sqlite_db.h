#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace weft::sqlite {

// One SQLite connection with its cache of prepared statements. Not thread-safe: a connection is used by one
// thread at a time (the writer mutex or the reader pool ensures it).
class Connection {
  public:
    Connection(const std::string& path, bool read_only);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sqlite3* handle() const { return db_; }
    // The id of the row the last INSERT on this connection created, and the rows the last write changed.
    // Store code uses these rather than sqlite3_* calls so that it stays portable to the PostgreSQL backend.
    std::int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
    int Changes() const { return sqlite3_changes(db_); }
    // A cached prepared statement, reset and with bindings cleared.
    sqlite3_stmt* Prepare(std::string_view sql);
    // Runs one or more statements without results; throws on failure (used for schema and pragmas).
    void Exec(const std::string& sql);

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// A statement in use: binds by position (1-based, in order of calls), steps, reads columns, resets when done.
class Statement {
  public:
    Statement(Connection& conn, std::string_view sql) : conn_(conn), stmt_(conn.Prepare(sql)) {}
    ~Statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& Bind(std::int64_t v);
    Statement& Bind(int v) { return Bind(static_cast<std::int64_t>(v)); }
    Statement& Bind(bool v) { return Bind(static_cast<std::int64_t>(v ? 1 : 0)); }
    Statement& Bind(std::string_view v);
    Statement& Bind(const std::string& v) { return Bind(std::string_view(v)); }
    Statement& Bind(const char* v) { return Bind(std::string_view(v)); }
    Statement& Bind(const std::optional<std::string>& v);
    Statement& Bind(const std::optional<std::int64_t>& v);
    Statement& BindNull();

    // true while a row is available; false when done. Constraint violations return an Error value.
    Result<bool> Step();
    // Steps to completion, for statements without rows.
    Status Run();

    std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string Text(int col) const;
    std::optional<std::string> OptText(int col) const;
    std::optional<std::int64_t> OptInt(int col) const;

    sqlite3* db() const { return conn_.handle(); }

  private:
    Connection& conn_;
    sqlite3_stmt* stmt_;
    int next_ = 1;
};

// The database: WAL, synchronous=FULL, foreign keys on; one writer connection and a pool of readers.
class Database {
  public:
    Database(std::string path, int readers);

    // Runs `fn(Connection&)` in a write transaction and returns its result once that transaction is durable.
    // Concurrent writers share commits (group commit): one of them, the leader, opens a transaction, runs
    // every waiting fn inside its own SAVEPOINT (an fn that returns an error or throws is rolled back alone),
    // commits once and wakes the others. Durability is unchanged (synchronous=FULL); one fsync serves many.
    template <typename Fn>
    auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        using R = decltype(fn(std::declval<Connection&>()));
        std::optional<R> result;
        WriteJob job;
        job.run = [&](Connection& c) {
            result.emplace(fn(c));
            return result->ok();
        };
        Submit(job);
        if (job.exception) std::rethrow_exception(job.exception);
        if (!job.commit_status.ok()) return job.commit_status.error();
        return std::move(*result);
    }

    // Runs `fn(Connection&)` on a reader connection (a consistent snapshot for the statements inside fn only
    // when fn opens its own transaction).
    template <typename Fn>
    auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        Lease lease(*this);
        return fn(*lease.conn);
    }

    // Like Read, inside one read transaction: every statement of fn sees the same snapshot, and the WAL read
    // lock is taken once rather than per statement.
    template <typename Fn>
    auto ReadSnapshot(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        Lease lease(*this);
        Connection& c = *lease.conn;
        if (auto b = Statement(c, "BEGIN").Run(); !b.ok()) return std::move(b).error();
        struct End {
            Connection& c;
            ~End() {
                if (!sqlite3_get_autocommit(c.handle())) (void)Statement(c, "COMMIT").Run();
            }
        } end{c};
        return fn(c);
    }

    const std::string& path() const { return path_; }
    Connection& writer_for_migrations() { return *writer_; }

  private:
    struct Lease {
        explicit Lease(Database& d);
        ~Lease();
        Database& db;
        Connection* conn;
    };
    // One write of a group commit.
    struct WriteJob {
        std::function<bool(Connection&)> run;  // true: keep its changes
        Status commit_status = Ok();
        std::exception_ptr exception;
        bool done = false;
    };
    void Submit(WriteJob& job);
    void RunBatch(std::vector<WriteJob*>& batch);
    void Rollback();

    std::string path_;
    std::mutex writer_mu_;  // guards the fields below
    std::condition_variable writer_cv_;
    std::vector<WriteJob*> pending_;
    bool leader_active_ = false;
    std::unique_ptr<Connection> writer_;
    std::mutex readers_mu_;
    std::condition_variable readers_cv_;
    std::vector<std::unique_ptr<Connection>> readers_;
    std::vector<Connection*> free_readers_;
};

// Maps a failed SQLite call to an Error: constraint violations become conflicts, busy/locked unavailable.
Error ToError(sqlite3* db, int rc, std::string_view what);

}  // namespace weft::sqlite
