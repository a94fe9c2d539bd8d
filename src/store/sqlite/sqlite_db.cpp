#include "store/sqlite/sqlite_db.h"

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

Database::Database(std::string path, int readers) : path_(std::move(path)) {
    writer_ = std::make_unique<Connection>(path_, false);
    for (int i = 0; i < readers; ++i) {
        readers_.push_back(std::make_unique<Connection>(path_, true));
        free_readers_.push_back(readers_.back().get());
    }
}

Database::~Database() = default;

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
    std::unique_lock lock(writer_mu_);
    pending_.push_back(&job);
    while (!job.done) {
        if (!leader_active_) {
            // Lead: commit everything that is waiting, including writes that arrive while this batch runs.
            leader_active_ = true;
            while (!pending_.empty()) {
                std::vector<WriteJob*> batch;
                batch.swap(pending_);
                lock.unlock();
                RunBatch(batch);
                lock.lock();
                for (auto* j : batch) j->done = true;
                writer_cv_.notify_all();
            }
            leader_active_ = false;
            writer_cv_.notify_all();  // a waiter may now lead
        } else {
            writer_cv_.wait(lock);
        }
    }
}

void Database::RunBatch(std::vector<WriteJob*>& batch) {
    auto fail_all = [&](const Status& s) {
        for (auto* j : batch) j->outcome.status = s;
    };
    if (auto b = sql::Statement(*writer_, "BEGIN IMMEDIATE").Run(); !b.ok()) return fail_all(b);
    for (auto* j : batch) {
        if (auto sp = sql::Statement(*writer_, "SAVEPOINT weft_write").Run(); !sp.ok()) {
            j->outcome.status = sp;
            continue;
        }
        bool keep = false;
        try {
            keep = (*j->run)(*writer_);
        } catch (...) {
            j->outcome.exception = std::current_exception();
        }
        if (!keep) (void)sql::Statement(*writer_, "ROLLBACK TO weft_write").Run();
        (void)sql::Statement(*writer_, "RELEASE weft_write").Run();
    }
    if (auto c = sql::Statement(*writer_, "COMMIT").Run(); !c.ok()) {
        Rollback();
        fail_all(c);
    }
}

void Database::Rollback() {
    if (!sqlite3_get_autocommit(writer_->handle())) writer_->Exec("ROLLBACK");
}

}  // namespace weft::sqlite
