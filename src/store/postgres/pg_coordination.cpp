#include "store/postgres/pg_coordination.h"

#include <sys/select.h>

#include <charconv>
#include <cstdlib>

namespace weft::pg {

RateDecision PgRateLimiter::Admit(const std::string& key, int limit, Micros now) {
    constexpr Micros kWindow = InMemoryRateLimiter::kWindow;
    // One statement, committed on its own (no BEGIN/COMMIT round trips): weft_rate_admit (migration 6) decides
    // under the key's row lock. The tables are UNLOGGED, so the commit waits for no WAL flush.
    auto r = db_.WriteAutocommit([&](sql::Connection& c) -> Result<RateDecision> {
        if (++since_sweep_ >= 1000) {
            since_sweep_ = 0;
            sql::Statement sweep(c, "SELECT weft_rate_sweep(?)");
            sweep.Bind(now - kWindow);
            if (auto s = sweep.Run(); !s) return std::move(s).error();
        }
        sql::Statement admit(
            c, "SELECT CASE WHEN allowed THEN 1 ELSE 0 END, remaining, retry_at FROM weft_rate_admit(?, ?, ?, ?)");
        admit.Bind(key).Bind(limit).Bind(now).Bind(kWindow);
        auto row = admit.Step();
        if (!row) return std::move(row).error();
        if (!*row) return Error::Internal("weft_rate_admit returned no row");
        RateDecision d;
        d.limit = limit;
        d.allowed = admit.Int(0) != 0;
        d.remaining = static_cast<int>(admit.Int(1));
        if (!d.allowed) {
            d.retry_after = std::max<std::int64_t>(1, (admit.Int(2) - now + 999'999) / 1'000'000);
        }
        return d;
    });
    if (r) return *r;
    RateDecision d;
    d.allowed = true;
    d.limit = limit;
    d.remaining = 0;
    return d;
}

LeaderLock::LeaderLock(std::string url, std::int64_t key, std::chrono::milliseconds retry)
    : url_(std::move(url)), key_(key), retry_(retry) {}

LeaderLock::~LeaderLock() = default;

bool LeaderLock::Held() {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_attempt_ < retry_) return held_;
    last_attempt_ = now;
    if (held_) {
        // Still ours while the session lives.
        if (conn_ && conn_->Command("SELECT 1").ok()) return true;
        held_ = false;
        conn_.reset();
    }
    try {
        if (!conn_ || !conn_->healthy()) conn_ = std::make_unique<Connection>(url_);
        PGresult* res = PQexec(conn_->handle(), ("SELECT pg_try_advisory_lock(" + std::to_string(key_) + ")").c_str());
        held_ = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                std::string_view(PQgetvalue(res, 0, 0)) == "t";
        if (res) PQclear(res);
    } catch (const std::exception&) {
        conn_.reset();
        held_ = false;
    }
    return held_;
}

RunFinishedListener::RunFinishedListener(std::string url, std::function<void(std::int64_t)> on_finished,
                                         std::function<void()> on_poll, std::chrono::milliseconds poll)
    : url_(std::move(url)), on_finished_(std::move(on_finished)), on_poll_(std::move(on_poll)), poll_(poll) {
    thread_ = std::thread([this] { Loop(); });
}

RunFinishedListener::~RunFinishedListener() { Stop(); }

void RunFinishedListener::Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void RunFinishedListener::Loop() {
    std::unique_ptr<Connection> conn;
    auto next_poll = std::chrono::steady_clock::now() + poll_;
    while (!stop_) {
        if (!conn || !conn->healthy()) {
            conn.reset();
            try {
                conn = std::make_unique<Connection>(url_);
                conn->Exec(std::string("LISTEN ") + kRunFinishedChannel);
            } catch (const std::exception&) {
                conn.reset();
            }
        }
        if (conn) {
            const int fd = PQsocket(conn->handle());
            fd_set fds;
            FD_ZERO(&fds);
            FD_SET(fd, &fds);
            timeval tv{0, 200'000};  // wakes often enough to notice Stop()
            if (select(fd + 1, &fds, nullptr, nullptr, &tv) > 0) {
                if (!PQconsumeInput(conn->handle())) {
                    conn.reset();
                    continue;
                }
                while (PGnotify* n = PQnotifies(conn->handle())) {
                    std::int64_t id = 0;
                    const std::string_view extra = n->extra ? n->extra : "";
                    std::from_chars(extra.data(), extra.data() + extra.size(), id);
                    PQfreemem(n);
                    if (id > 0) on_finished_(id);
                }
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (std::chrono::steady_clock::now() >= next_poll) {
            next_poll = std::chrono::steady_clock::now() + poll_;
            on_poll_();
        }
    }
}

}  // namespace weft::pg
