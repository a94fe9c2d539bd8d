#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.h"

// The dialect-neutral database layer the store is written against. Two backends implement it: SQLite
// (src/store/sqlite, the embedded default) and PostgreSQL (src/store/postgres). Store SQL is portable: `?` or
// `?N` placeholders (never both in one statement), c.LastInsertId() / c.Changes(), and c.dialect() for the
// rare statement that must differ.
namespace weft::sql {

enum class Dialect { kSqlite, kPostgres };

// A prepared statement cached by its connection. Parameters are bound by 1-based position; Step executes on
// its first call and then moves through the rows.
class Cursor {
  public:
    virtual ~Cursor() = default;
    virtual void BindInt(int index, std::int64_t v) = 0;
    virtual void BindText(int index, std::string_view v) = 0;
    virtual void BindNull(int index) = 0;
    // true while a row is available; false when done. Constraint violations return a kConflict Error.
    virtual Result<bool> Step() = 0;
    virtual std::int64_t Int(int col) const = 0;
    virtual bool IsNull(int col) const = 0;
    virtual std::string Text(int col) const = 0;
    // Clears the bindings and any pending rows, ready for the next use.
    virtual void Reset() = 0;
};

// One database connection with its cache of prepared statements. Not thread-safe: a connection is used by one
// thread at a time (its Database ensures it).
class Connection {
  public:
    virtual ~Connection() = default;
    virtual Dialect dialect() const = 0;
    // The cached prepared statement for `sql` (prepared on first use), reset.
    virtual Cursor& Prepare(std::string_view sql) = 0;
    // The id of the row the last INSERT on this connection created (into a table with an `id INTEGER PRIMARY
    // KEY AUTOINCREMENT` column), and the rows the last INSERT/UPDATE/DELETE changed.
    virtual std::int64_t LastInsertId() = 0;
    virtual int Changes() const = 0;
    // Runs one or more statements without results; throws on failure (used for schema changes).
    virtual void Exec(const std::string& sql) = 0;
};

// A statement in use: binds by position (in order of calls), steps, reads columns, resets when done.
class Statement {
  public:
    Statement(Connection& conn, std::string_view sql) : conn_(conn), cur_(conn.Prepare(sql)) {}
    ~Statement() { cur_.Reset(); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& Bind(std::int64_t v) {
        cur_.BindInt(next_++, v);
        return *this;
    }
    Statement& Bind(int v) { return Bind(static_cast<std::int64_t>(v)); }
    Statement& Bind(bool v) { return Bind(static_cast<std::int64_t>(v ? 1 : 0)); }
    Statement& Bind(std::string_view v) {
        cur_.BindText(next_++, v);
        return *this;
    }
    Statement& Bind(const std::string& v) { return Bind(std::string_view(v)); }
    Statement& Bind(const char* v) { return Bind(std::string_view(v)); }
    Statement& Bind(const std::optional<std::string>& v) { return v ? Bind(*v) : BindNull(); }
    Statement& Bind(const std::optional<std::int64_t>& v) { return v ? Bind(*v) : BindNull(); }
    Statement& BindNull() {
        cur_.BindNull(next_++);
        return *this;
    }

    Result<bool> Step() { return cur_.Step(); }
    // Steps to completion, for statements without rows.
    Status Run();

    std::int64_t Int(int col) const { return cur_.Int(col); }
    bool IsNull(int col) const { return cur_.IsNull(col); }
    std::string Text(int col) const { return cur_.Text(col); }
    std::optional<std::string> OptText(int col) const;
    std::optional<std::int64_t> OptInt(int col) const;

    Connection& connection() const { return conn_; }

  private:
    Connection& conn_;
    Cursor& cur_;
    int next_ = 1;
};

// A database: write transactions, reads and read snapshots over a backend's connections.
class Database {
  public:
    virtual ~Database() = default;
    virtual Dialect dialect() const = 0;
    // Returns once every write submitted so far is written and its done has returned (a backend that writes on
    // the caller's thread has nothing to wait for). For shutdown: the objects those callbacks use go next.
    virtual void Flush() {}

    // Runs `fn(Connection&)` in a write transaction and returns its result once that transaction is durable.
    // An fn that returns an error (or throws) has its changes rolled back. fn may run more than once (a
    // backend retries a transaction that lost a serialization conflict), so it must only touch the database
    // and its own result.
    template <typename Fn>
    auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        return WriteWith(std::forward<Fn>(fn), false);
    }

    // Runs `fn(Connection&)` outside an explicit transaction: each statement commits on its own, durably, so a
    // single statement (a database function, say) is one round trip. Never repeated once fn has started (a
    // statement may have committed). A backend without autocommit writes (SQLite) runs fn as a Write.
    template <typename Fn>
    auto WriteAutocommit(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        return WriteWith(std::forward<Fn>(fn), true);
    }

    // Runs `fn(Connection&)`, which makes exactly one statement, as that statement's own transaction (autocommit:
    // one round trip, no BEGIN or COMMIT). A statement that lost a serialization conflict or a deadlock committed
    // nothing, and is run again (fn with it); any other failure is fn's result. A backend without autocommit
    // writes (SQLite) runs fn as a Write.
    template <typename Fn>
    auto WriteStatement(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        using R = decltype(fn(std::declval<Connection&>()));
        std::optional<R> result;
        WriteOutcome o = RunStatement([&](Connection& c) {
            result.emplace(fn(c));
            return result->ok();
        });
        if (o.exception) std::rethrow_exception(o.exception);
        if (!o.status.ok()) return o.status.error();
        return std::move(*result);
    }

    // Like Write, without holding the caller's thread until the commit: `done(result)` is called once the
    // transaction is durable (or failed), on the thread that committed it, possibly before WriteAsync returns.
    // A backend without group commit runs the write on the calling thread. `done` should be short: on SQLite it
    // delays the next group commit (it may write again, though: such a write runs at once, alone).
    template <typename R>
    void WriteAsync(std::function<R(Connection&)> fn, std::function<void(R)> done) {
        auto result = std::make_shared<std::optional<R>>();
        RunWriteAsync(
            [fn = std::move(fn), result](Connection& c) {
                result->emplace(fn(c));
                return (*result)->ok();
            },
            [result, done = std::move(done)](WriteOutcome o) {
                if (o.exception) {
                    std::string what = "the write threw";
                    try {
                        std::rethrow_exception(o.exception);
                    } catch (const std::exception& e) {
                        what = e.what();
                    } catch (...) {
                    }
                    return done(R(Error::Internal(what)));
                }
                if (!o.status.ok()) return done(R(o.status.error()));
                done(std::move(**result));
            });
    }

    // Runs `fn(Connection&)` outside an explicit transaction (each statement sees the latest commits).
    template <typename Fn>
    auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        return ReadWith(std::forward<Fn>(fn), false);
    }

    // Like Read, inside one read transaction: every statement of fn sees the same snapshot.
    template <typename Fn>
    auto ReadSnapshot(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
        return ReadWith(std::forward<Fn>(fn), true);
    }

  protected:
    struct WriteOutcome {
        Status status = Ok();  // the commit's (or the transaction's start) status
        std::exception_ptr exception;
    };
    // Runs fn (true: keep its changes) in a write transaction.
    virtual WriteOutcome RunWrite(const std::function<bool(Connection&)>& fn) = 0;
    virtual WriteOutcome RunAutocommit(const std::function<bool(Connection&)>& fn) { return RunWrite(fn); }
    virtual WriteOutcome RunStatement(const std::function<bool(Connection&)>& fn) { return RunWrite(fn); }
    // Runs fn in a write transaction and then done with its outcome (by default on the calling thread, at once).
    virtual void RunWriteAsync(std::function<bool(Connection&)> fn, std::function<void(WriteOutcome)> done) {
        done(RunWrite(fn));
    }
    // Runs fn on a read connection; an error when no connection or snapshot could be had (fn did not run).
    virtual Status RunRead(const std::function<void(Connection&)>& fn, bool snapshot) = 0;

  private:
    template <typename Fn>
    auto WriteWith(Fn&& fn, bool autocommit) -> decltype(fn(std::declval<Connection&>())) {
        using R = decltype(fn(std::declval<Connection&>()));
        std::optional<R> result;
        auto body = [&](Connection& c) {
            result.emplace(fn(c));
            return result->ok();
        };
        WriteOutcome o = autocommit ? RunAutocommit(body) : RunWrite(body);
        if (o.exception) std::rethrow_exception(o.exception);
        if (!o.status.ok()) return o.status.error();
        return std::move(*result);
    }

    template <typename Fn>
    auto ReadWith(Fn&& fn, bool snapshot) -> decltype(fn(std::declval<Connection&>())) {
        using R = decltype(fn(std::declval<Connection&>()));
        std::optional<R> result;
        Status st = RunRead([&](Connection& c) { result.emplace(fn(c)); }, snapshot);
        if (!result) {
            if constexpr (std::is_constructible_v<R, Error>) {
                return st.ok() ? R(Error::Internal("read did not run")) : R(st.error());
            } else {
                throw std::runtime_error("database read failed: " + (st.ok() ? std::string() : st.error().detail));
            }
        }
        return std::move(*result);
    }
};

// PostgreSQL array literals, for binding a list as one text parameter (`CAST(? AS TEXT[])`, unnest):
// {"a","b \"quoted\""} and {1,2,3}.
std::string TextArrayLiteral(const std::vector<std::string>& items);
std::string IntArrayLiteral(const std::vector<std::int64_t>& items);
// The same with NULL elements.
std::string NullableTextArrayLiteral(const std::vector<std::optional<std::string>>& items);
std::string NullableIntArrayLiteral(const std::vector<std::optional<std::int64_t>>& items);

}  // namespace weft::sql
