#include "store/postgres/pg_db.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <thread>

namespace weft::pg {

namespace {

void IgnoreNotice(void*, const char*) {}

constexpr auto kIdleCheck = std::chrono::seconds(30);
constexpr int kMaxAttempts = 5;

void Backoff(int attempt) { std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt)); }

}  // namespace

std::pair<std::string, int> TranslatePlaceholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int plain = 0, highest = 0;
    bool numbered = false;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char ch = sql[i];
        if (ch == '\'' || ch == '"') {  // a quoted literal or identifier ('' inside is two adjacent quotes)
            std::size_t end = sql.find(ch, i + 1);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.append(sql.substr(i, end - i + 1));
            i = end;
        } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            std::size_t end = sql.find('\n', i);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.append(sql.substr(i, end - i + 1));
            i = end;
        } else if (ch == '?') {
            std::size_t end = i + 1;
            while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
            int n = 0;
            if (end > i + 1) {
                std::from_chars(sql.data() + i + 1, sql.data() + end, n);
                numbered = true;
            } else {
                n = ++plain;
            }
            highest = std::max(highest, n);
            out += '$';
            out += std::to_string(n);
            i = end - 1;
        } else {
            out += ch;
        }
    }
    if (numbered && plain > 0) {
        throw std::logic_error("a statement mixes ? and ?N placeholders: " + std::string(sql));
    }
    return {std::move(out), highest};
}

bool Retryable(std::string_view sqlstate) {
    return sqlstate == "40001" || sqlstate == "40P01" || sqlstate.substr(0, 2) == "08" || sqlstate == "57P01";
}

// ---- Cursor

Cursor::Cursor(Connection& conn, std::string name, std::string sql, int params)
    : conn_(conn), name_(std::move(name)), sql_(std::move(sql)), params_(static_cast<std::size_t>(params)) {}

Cursor::~Cursor() {
    if (res_) PQclear(res_);
}

std::optional<std::string>& Cursor::Param(int index) {
    if (index < 1 || index > static_cast<int>(params_.size())) {
        throw std::logic_error("parameter " + std::to_string(index) + " out of range in: " + sql_);
    }
    return params_[static_cast<std::size_t>(index - 1)];
}

Result<bool> Cursor::Step() {
    if (!executed_) {
        executed_ = true;
        std::vector<const char*> values(params_.size());
        for (std::size_t i = 0; i < params_.size(); ++i) values[i] = params_[i] ? params_[i]->c_str() : nullptr;
        res_ = PQexecPrepared(conn_.handle(), name_.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                              nullptr, 0);
        const auto status = res_ ? PQresultStatus(res_) : PGRES_FATAL_ERROR;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            Error e = conn_.Failure(res_, sql_);
            if (res_) PQclear(res_);
            res_ = nullptr;
            rows_ = 0;
            return e;
        }
        conn_.SetChanges(res_);
        rows_ = status == PGRES_TUPLES_OK ? PQntuples(res_) : 0;
        row_ = -1;
    }
    if (row_ < rows_) ++row_;
    return row_ < rows_;
}

std::int64_t Cursor::Int(int col) const {
    const char* v = PQgetvalue(res_, row_, col);
    std::int64_t out = 0;
    std::from_chars(v, v + PQgetlength(res_, row_, col), out);
    return out;
}

std::string Cursor::Text(int col) const {
    return std::string(PQgetvalue(res_, row_, col), static_cast<std::size_t>(PQgetlength(res_, row_, col)));
}

void Cursor::Reset() {
    if (res_) PQclear(res_);
    res_ = nullptr;
    executed_ = false;
    row_ = -1;
    rows_ = 0;
    for (auto& p : params_) p.reset();
}

// ---- Connection

Connection::Connection(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
        PQfinish(conn_);
        conn_ = nullptr;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        throw std::runtime_error("cannot connect to PostgreSQL: " + msg);
    }
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
    // A commit is durable before it is acknowledged (DESIGN.md, runs and the queue), whatever the server's
    // default; times are stored as integers, so the session time zone does not matter.
    Exec("SET synchronous_commit = on; SET application_name = 'weft'");
    last_used = std::chrono::steady_clock::now();
}

Connection::~Connection() {
    statements_.clear();
    PQfinish(conn_);
}

sql::Cursor& Connection::Prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) {
        it->second->Reset();
        return *it->second;
    }
    auto [text, params] = TranslatePlaceholders(sql);
    std::string name = "weft_" + std::to_string(statements_.size() + 1);
    PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), params, nullptr);
    const bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        Error e = Failure(res, text);
        if (res) PQclear(res);
        throw std::runtime_error("PostgreSQL prepare failed: " + e.detail);
    }
    PQclear(res);
    auto& cur = statements_[std::string(sql)];
    cur = std::make_unique<Cursor>(*this, std::move(name), std::move(text), params);
    return *cur;
}

std::int64_t Connection::LastInsertId() {
    PGresult* res = PQexec(conn_, "SELECT lastval()");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        Error e = Failure(res, "SELECT lastval()");
        if (res) PQclear(res);
        throw std::runtime_error(e.detail);
    }
    std::int64_t id = 0;
    const char* v = PQgetvalue(res, 0, 0);
    std::from_chars(v, v + PQgetlength(res, 0, 0), id);
    PQclear(res);
    return id;
}

void Connection::Exec(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Error e = Failure(res, sql);
        if (res) PQclear(res);
        throw std::runtime_error(e.detail);
    }
    PQclear(res);
}

Status Connection::Command(const char* sql) {
    PGresult* res = PQexec(conn_, sql);
    const auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK) {
        Error e = Failure(res, sql);
        if (res) PQclear(res);
        return e;
    }
    PQclear(res);
    return Ok();
}

Error Connection::Failure(const PGresult* res, std::string_view what) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state ? state : (healthy() ? "XX000" : "08006");
    if (first_failure_.empty()) first_failure_ = sqlstate;
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    const std::string detail = "PostgreSQL error " + sqlstate + " (" + msg + ") in: " + std::string(what);
    if (sqlstate.substr(0, 2) == "23") {
        return {ErrorCode::kConflict, "The object conflicts with another one.", detail, {}};
    }
    if (Retryable(sqlstate) || sqlstate.substr(0, 2) == "53" || sqlstate.substr(0, 3) == "57P") {
        return Error::Unavailable(detail);
    }
    return Error::Internal(detail);
}

void Connection::SetChanges(const PGresult* res) {
    const std::string_view cmd = PQcmdStatus(const_cast<PGresult*>(res));
    if (cmd.starts_with("INSERT") || cmd.starts_with("UPDATE") || cmd.starts_with("DELETE")) {
        int n = 0;
        const std::string_view tuples = PQcmdTuples(const_cast<PGresult*>(res));
        std::from_chars(tuples.data(), tuples.data() + tuples.size(), n);
        changes_ = n;
    }
}

// ---- Database

Database::Database(std::string url, int pool_size) : url_(std::move(url)), pool_size_(std::max(1, pool_size)) {
    free_.push_back(std::make_unique<Connection>(url_));
    open_ = 1;
}

Database::~Database() = default;

Result<std::unique_ptr<Connection>> Database::Acquire() {
    std::unique_ptr<Connection> conn;
    {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !free_.empty() || open_ < pool_size_; });
        if (!free_.empty()) {
            conn = std::move(free_.back());
            free_.pop_back();
        } else {
            ++open_;
        }
    }
    // Health check: a connection idle for a while may have been closed by the server or a proxy.
    if (conn && conn->healthy() && std::chrono::steady_clock::now() - conn->last_used > kIdleCheck) {
        if (!conn->Command("SELECT 1").ok()) conn.reset();
    }
    if (conn && !conn->healthy()) conn.reset();
    if (!conn) {
        try {
            conn = std::make_unique<Connection>(url_);
        } catch (const std::exception& e) {
            {
                std::lock_guard lock(mu_);
                --open_;
            }
            cv_.notify_one();
            return Error::Unavailable(e.what());
        }
    }
    conn->ClearFailure();
    return conn;
}

void Database::Release(std::unique_ptr<Connection> conn) {
    {
        std::lock_guard lock(mu_);
        if (conn && conn->healthy() && PQtransactionStatus(conn->handle()) == PQTRANS_IDLE) {
            conn->last_used = std::chrono::steady_clock::now();
            free_.push_back(std::move(conn));
        } else {
            --open_;  // broken or in an unknown state: closed, and replaced on demand
        }
    }
    cv_.notify_one();
    conn.reset();
}

sql::Database::WriteOutcome Database::RunWrite(const std::function<bool(sql::Connection&)>& fn) {
    for (int attempt = 1;; ++attempt) {
        auto acquired = Acquire();
        if (!acquired) return {std::move(acquired).error(), nullptr};
        std::unique_ptr<Connection> c = std::move(*acquired);
        WriteOutcome out;
        if (auto b = c->Command("BEGIN"); !b.ok()) {
            const bool again = !c->healthy() && attempt < kMaxAttempts;
            Release(std::move(c));
            if (again) continue;
            return {b, nullptr};
        }
        bool keep = false;
        try {
            keep = fn(*c);
        } catch (...) {
            out.exception = std::current_exception();
        }
        std::string failure = c->first_failure();
        if (keep && !out.exception) {
            Status commit = c->Command("COMMIT");
            if (commit.ok()) {
                Release(std::move(c));
                return out;
            }
            // A failed COMMIT rolled back, except when the connection broke during it: then the outcome is
            // unknown and must not be repeated.
            const bool again = c->healthy() && Retryable(c->first_failure()) && attempt < kMaxAttempts;
            Release(std::move(c));
            if (again) {
                Backoff(attempt);
                continue;
            }
            out.status = commit;
            return out;
        }
        if (c->healthy()) (void)c->Command("ROLLBACK");
        const bool again = (Retryable(failure) || !c->healthy()) && attempt < kMaxAttempts;
        Release(std::move(c));
        if (again) {
            Backoff(attempt);
            continue;
        }
        return out;
    }
}

sql::Database::WriteOutcome Database::RunAutocommit(const std::function<bool(sql::Connection&)>& fn) {
    auto acquired = Acquire();
    if (!acquired) return {std::move(acquired).error(), nullptr};
    std::unique_ptr<Connection> c = std::move(*acquired);
    WriteOutcome out;
    try {
        (void)fn(*c);  // a failed statement reports itself in fn's result
    } catch (...) {
        out.exception = std::current_exception();
    }
    Release(std::move(c));
    return out;
}

sql::Database::WriteOutcome Database::RunStatement(const std::function<bool(sql::Connection&)>& fn) {
    for (int attempt = 1;; ++attempt) {
        auto acquired = Acquire();
        if (!acquired) return {std::move(acquired).error(), nullptr};
        std::unique_ptr<Connection> c = std::move(*acquired);
        WriteOutcome out;
        bool ok = false;
        try {
            ok = fn(*c);
        } catch (...) {
            out.exception = std::current_exception();
        }
        // The one statement lost a conflict or a deadlock: it was rolled back whole, so running it again is safe.
        // (A broken connection leaves the outcome unknown: never repeated.)
        const std::string failure = c->first_failure();
        const bool again = !ok && !out.exception && c->healthy() && (failure == "40001" || failure == "40P01") &&
                           attempt < kMaxAttempts;
        Release(std::move(c));
        if (!again) return out;
        Backoff(attempt);
    }
}

Status Database::RunRead(const std::function<void(sql::Connection&)>& fn, bool snapshot) {
    for (int attempt = 1;; ++attempt) {
        auto acquired = Acquire();
        if (!acquired) return std::move(acquired).error();
        std::unique_ptr<Connection> c = std::move(*acquired);
        if (snapshot) {
            if (auto b = c->Command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !b.ok()) {
                const bool again = !c->healthy() && attempt < kMaxAttempts;
                Release(std::move(c));
                if (again) continue;
                return b;
            }
        }
        std::exception_ptr exception;
        try {
            fn(*c);
        } catch (...) {
            exception = std::current_exception();
        }
        if (snapshot && c->healthy()) (void)c->Command(exception ? "ROLLBACK" : "COMMIT");
        const bool broken = !c->healthy();
        Release(std::move(c));
        // A pooled connection found broken (a restarted server): read again on a fresh one.
        if (broken && attempt < 2) continue;
        if (exception && !broken) std::rethrow_exception(exception);
        if (exception) return Error::Unavailable("the PostgreSQL connection was lost");
        return Ok();
    }
}

}  // namespace weft::pg
