#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/sql/sql_db.h"

// The SQLite backend of the sql layer: the embedded default store (one file, WAL, group commit).
namespace weft::sqlite {

class Connection;

class Cursor final : public sql::Cursor {
  public:
    Cursor(Connection& conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
    ~Cursor() override { sqlite3_finalize(stmt_); }
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;

    void BindInt(int index, std::int64_t v) override { sqlite3_bind_int64(stmt_, index, v); }
    void BindText(int index, std::string_view v) override {
        sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void BindNull(int index) override { sqlite3_bind_null(stmt_, index); }
    Result<bool> Step() override;
    std::int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
    bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string Text(int col) const override;
    void Reset() override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

  private:
    Connection& conn_;
    sqlite3_stmt* stmt_;
};

// One SQLite connection with its cache of prepared statements.
class Connection final : public sql::Connection {
  public:
    Connection(const std::string& path, bool read_only);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
    sqlite3* handle() const { return db_; }
    std::int64_t LastInsertId() override { return sqlite3_last_insert_rowid(db_); }
    int Changes() const override { return sqlite3_changes(db_); }
    sql::Cursor& Prepare(std::string_view sql) override;
    void Exec(const std::string& sql) override;

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<Cursor>> statements_;
};

// The database: WAL, synchronous=FULL, foreign keys on; one writer connection and a pool of readers.
class Database final : public sql::Database {
  public:
    Database(std::string path, int readers);
    ~Database() override;

    sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
    const std::string& path() const { return path_; }
    void Flush() override;

  protected:
    // Concurrent writers share commits (group commit): one of them, the leader, opens a transaction, runs every
    // waiting fn (an fn that returns an error or throws is rolled back alone: see RunBatch), commits once and
    // wakes the others. Durability is unchanged (synchronous=FULL); one fsync serves many.
    WriteOutcome RunWrite(const std::function<bool(sql::Connection&)>& fn) override;
    // An asynchronous write joins the leader's next batch and returns at once; its done runs on the leader's
    // thread after the commit. With no leader, the database's own committer thread leads: a thread that writes
    // asynchronously is never held, and a synchronous leader whose own write is committed hands the lead back
    // to the committer (or to another synchronous writer) instead of leading on.
    void RunWriteAsync(std::function<bool(sql::Connection&)> fn, std::function<void(WriteOutcome)> done) override;
    // Reads run on a reader connection; a snapshot read inside BEGIN ... COMMIT (the WAL read lock is taken
    // once rather than per statement).
    Status RunRead(const std::function<void(sql::Connection&)>& fn, bool snapshot) override;

  private:
    struct Lease {
        explicit Lease(Database& d);
        ~Lease();
        Database& db;
        Connection* conn;
    };
    // One write of a group commit.
    struct WriteJob {
        const std::function<bool(sql::Connection&)>* run;  // true: keep its changes
        WriteOutcome outcome;
        bool done = false;
        bool lead = false;           // a synchronous writer's thread is handed the lead
        std::condition_variable cv;  // wakes a synchronous writer's thread when done or lead is set
        // An asynchronous write owns its fn and is deleted after its callback.
        std::function<bool(sql::Connection&)> owned;
        std::function<void(WriteOutcome)> callback;
    };
    void Submit(WriteJob& job);
    // Leads the group commit (`own`, the caller's write, is in pending_ already; none for the committer).
    void Lead(std::unique_lock<std::mutex>& lock, WriteJob* own);
    // The committer thread: leads whenever writes wait and no one leads.
    void Commit();
    // One transaction for the batch. Writes run one after the other without a savepoint each (two statements
    // fewer per write): a write that fails having changed no rows (a refusal such as queue_full) needs nothing
    // undone. When one fails after changing rows, or throws, the batch runs again with a savepoint per write.
    // (Schema changes do not count as changed rows; they run alone, at startup, where a failure rolls back the
    // whole transaction.)
    void RunBatch(std::vector<WriteJob*>& batch);
    bool RunJob(WriteJob& job);                             // fn's verdict; false when it threw
    bool RunOptimistically(std::vector<WriteJob*>& batch);  // false: a write must be undone
    void RunWithSavepoints(std::vector<WriteJob*>& batch);
    void Rollback();

    std::string path_;
    std::mutex writer_mu_;  // guards the fields below
    std::vector<WriteJob*> pending_;
    bool leader_active_ = false;
    bool stopping_ = false;
    std::condition_variable committer_cv_;  // wakes the committer
    std::condition_variable idle_cv_;       // wakes Flush: no leader any more
    std::unique_ptr<Connection> writer_;
    std::mutex readers_mu_;
    std::condition_variable readers_cv_;
    std::vector<std::unique_ptr<Connection>> readers_;
    std::vector<Connection*> free_readers_;
    std::thread committer_;  // last: it starts once everything above is built
};

// Maps a failed SQLite call to an Error: constraint violations become conflicts, busy/locked unavailable.
Error ToError(sqlite3* db, int rc, std::string_view what);

}  // namespace weft::sqlite
