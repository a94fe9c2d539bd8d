#include "store/sqlite/sqlite_db.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace weft::sqlite {

Connection::Connection(const std::string& path, bool read_only) {
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    Exec("PRAGMA foreign_keys=ON");
    if (!read_only) {
        Exec("PRAGMA journal_mode=WAL");
        // FULL: a commit is on disk before it is acknowledged (DESIGN.md, runs and the queue).
        Exec("PRAGMA synchronous=FULL");
    }
}

Connection::~Connection() {
    statements_.clear();
    sqlite3_close(db_);
}

sql::Cursor& Connection::Prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) {
        it->second->Reset();
        return *it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
        throw std::runtime_error("SQLite prepare failed: " + std::string(sqlite3_errmsg(db_)) +
                                 " in: " + std::string(sql));
    }
    auto& cur = statements_[std::string(sql)];
    cur = std::make_unique<Cursor>(*this, stmt);
    return *cur;
}

void Connection::Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error("SQLite: " + msg + " in: " + sql);
    }
}

Result<bool> Cursor::Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return ToError(conn_.handle(), rc, sqlite3_sql(stmt_));
}

std::string Cursor::Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
}

Error ToError(sqlite3* db, int rc, std::string_view what) {
    const std::string detail =
        std::string("SQLite error ") + std::to_string(rc) + " (" + sqlite3_errmsg(db) + ") in: " + std::string(what);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return {ErrorCode::kConflict, "The object conflicts with another one.", detail, {}};
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return Error::Unavailable(detail);
    return Error::Internal(detail);
}

namespace {
// The database this thread leads the group commit of, between batches (no transaction open): a write that a
// callback of the batch makes runs at once, alone, instead of waiting for the leader, itself.
thread_local const Database* tls_leading = nullptr;
// The database whose committer thread this is.
thread_local const Database* tls_committer = nullptr;
}  // namespace

Database::Database(std::string path, int readers) : path_(std::move(path)) {
    writer_ = std::make_unique<Connection>(path_, false);
    for (int i = 0; i < readers; ++i) {
        readers_.push_back(std::make_unique<Connection>(path_, true));
        free_readers_.push_back(readers_.back().get());
    }
    committer_ = std::thread([this] { Commit(); });
}

Database::~Database() {
    {
        std::lock_guard lock(writer_mu_);
        stopping_ = true;
    }
    committer_cv_.notify_one();
    committer_.join();
}

void Database::Flush() {
    std::unique_lock lock(writer_mu_);
    idle_cv_.wait(lock, [&] { return pending_.empty() && !leader_active_; });
}

void Database::Commit() {
    tls_committer = this;
    std::unique_lock lock(writer_mu_);
    for (;;) {
        committer_cv_.wait(lock, [&] { return stopping_ || (!leader_active_ && !pending_.empty()); });
        // What waits is written before the committer stops.
        if (!leader_active_ && !pending_.empty()) {
            Lead(lock, nullptr);
        } else if (stopping_) {
            return;
        }
    }
}

Database::Lease::Lease(Database& d) : db(d) {
    std::unique_lock lock(db.readers_mu_);
    db.readers_cv_.wait(lock, [&] { return !db.free_readers_.empty(); });
    conn = db.free_readers_.back();
    db.free_readers_.pop_back();
}

Database::Lease::~Lease() {
    {
        std::lock_guard lock(db.readers_mu_);
        db.free_readers_.push_back(conn);
    }
    db.readers_cv_.notify_one();
}

sql::Database::WriteOutcome Database::RunWrite(const std::function<bool(sql::Connection&)>& fn) {
    WriteJob job;
    job.run = &fn;
    Submit(job);
    return job.outcome;
}

void Database::RunWriteAsync(std::function<bool(sql::Connection&)> fn, std::function<void(WriteOutcome)> done) {
    if (tls_leading == this) {
        done(RunWrite(fn));
        return;
    }
    auto* job = new WriteJob;
    job->owned = std::move(fn);
    job->run = &job->owned;
    job->callback = std::move(done);
    bool wake = false;
    {
        std::lock_guard lock(writer_mu_);
        pending_.push_back(job);
        wake = !leader_active_;
    }
    if (wake) committer_cv_.notify_one();
}

Status Database::RunRead(const std::function<void(sql::Connection&)>& fn, bool snapshot) {
    Lease lease(*this);
    Connection& c = *lease.conn;
    if (!snapshot) {
        fn(c);
        return Ok();
    }
    if (auto b = sql::Statement(c, "BEGIN").Run(); !b.ok()) return b;
    struct End {
        Connection& c;
        ~End() {
            if (!sqlite3_get_autocommit(c.handle())) (void)sql::Statement(c, "COMMIT").Run();
        }
    } end{c};
    fn(c);
    return Ok();
}

void Database::Submit(WriteJob& job) {
    if (tls_leading == this) {
        std::vector<WriteJob*> alone{&job};
        RunBatch(alone);
        return;
    }
    std::unique_lock lock(writer_mu_);
    pending_.push_back(&job);
    if (leader_active_) {
        // The leader takes this write into its next batch and wakes this thread alone once it is committed, or
        // hands it the lead.
        job.cv.wait(lock, [&] { return job.done || job.lead; });
        if (job.done) return;
    }
    Lead(lock, &job);
}

void Database::Lead(std::unique_lock<std::mutex>& lock, WriteJob* own) {
    // Commit everything that waits, including writes that arrive while a batch runs. Once its own write is
    // committed, the leader hands the lead to a thread that waits for its write, so that its own caller goes on;
    // when only asynchronous writes wait, a synchronous writer hands them to the committer thread, which leads
    // on. A synchronous write that finds no leader leads in turn.
    const bool committer = tls_committer == this;
    leader_active_ = true;
    std::vector<WriteJob*> batch, callbacks;
    while (!pending_.empty()) {
        if (own == nullptr) {
            auto next = std::find_if(pending_.begin(), pending_.end(), [](const WriteJob* j) { return !j->callback; });
            if (next != pending_.end()) {
                (*next)->lead = true;
                (*next)->cv.notify_one();
                return;  // the lead passes: leader_active_ stays set
            }
            if (!committer) {
                leader_active_ = false;  // (Flush still waits: pending_ is not empty)
                committer_cv_.notify_one();
                return;
            }
        }
        batch.clear();
        batch.swap(pending_);
        lock.unlock();
        RunBatch(batch);
        lock.lock();
        callbacks.clear();
        for (auto* j : batch) {
            if (j == own) own = nullptr;
            if (j->callback) {
                callbacks.push_back(j);
            } else {
                j->done = true;
                j->cv.notify_one();  // under the lock: the job lives on its waiting thread's stack
            }
        }
        if (callbacks.empty()) continue;
        lock.unlock();
        tls_leading = this;
        for (auto* j : callbacks) {
            try {
                j->callback(std::move(j->outcome));
            } catch (const std::exception& e) {
                // A callback's failure is its own; the other writes of the batch are committed and told.
                spdlog::error("a database write's completion failed: {}", e.what());
            }
            delete j;
        }
        tls_leading = nullptr;
        lock.lock();
    }
    leader_active_ = false;
    idle_cv_.notify_all();
}

void Database::RunBatch(std::vector<WriteJob*>& batch) {
    auto fail_all = [&](const Status& s) {
        for (auto* j : batch) j->outcome.status = s;
    };
    if (auto b = sql::Statement(*writer_, "BEGIN IMMEDIATE").Run(); !b.ok()) return fail_all(b);
    if (batch.size() == 1) {
        // Alone, a write's transaction is its own: a failure rolls it back whole.
        if (!RunJob(*batch.front())) return Rollback();
    } else if (!RunOptimistically(batch)) {
        // A write failed after changing rows: undo everything and run the batch again with a savepoint per
        // write, so that only that write's changes go (writes may run more than once).
        Rollback();
        for (auto* j : batch) j->outcome = WriteOutcome{};
        if (auto b = sql::Statement(*writer_, "BEGIN IMMEDIATE").Run(); !b.ok()) return fail_all(b);
        RunWithSavepoints(batch);
    }
    if (auto c = sql::Statement(*writer_, "COMMIT").Run(); !c.ok()) {
        Rollback();
        fail_all(c);
    }
}

bool Database::RunJob(WriteJob& job) {
    try {
        return (*job.run)(*writer_);
    } catch (...) {
        job.outcome.exception = std::current_exception();
        return false;
    }
}

bool Database::RunOptimistically(std::vector<WriteJob*>& batch) {
    sqlite3* db = writer_->handle();
    for (auto* j : batch) {
        const sqlite3_int64 before = sqlite3_total_changes64(db);
        // A refusal that wrote nothing (queue_full, not found...) has nothing to undo.
        if (!RunJob(*j) && (j->outcome.exception || sqlite3_total_changes64(db) != before)) return false;
    }
    return true;
}

void Database::RunWithSavepoints(std::vector<WriteJob*>& batch) {
    for (auto* j : batch) {
        if (auto sp = sql::Statement(*writer_, "SAVEPOINT weft_write").Run(); !sp.ok()) {
            j->outcome.status = sp;
            continue;
        }
        if (!RunJob(*j)) (void)sql::Statement(*writer_, "ROLLBACK TO weft_write").Run();
        (void)sql::Statement(*writer_, "RELEASE weft_write").Run();
    }
}

void Database::Rollback() {
    if (!sqlite3_get_autocommit(writer_->handle())) writer_->Exec("ROLLBACK");
}

}  // namespace weft::sqlite
