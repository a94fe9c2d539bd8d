#include "store/postgres/pg_coordination.h"

#include <sys/select.h>

#include <charconv>
#include <cstdlib>

namespace weft::pg {

RateDecision PgRateLimiter::Admit(const std::string& key, int limit, Micros now) {
    constexpr Micros kWindow = InMemoryRateLimiter::kWindow;
    const bool sweep = ++since_sweep_ >= 1000;
    if (sweep) since_sweep_ = 0;
    auto r = db_.Write([&](sql::Connection& c) -> Result<RateDecision> {
        sql::Statement lock(c, "SELECT pg_advisory_xact_lock(hashtext(?))");
        lock.Bind(key);
        if (auto l = lock.Run(); !l) return std::move(l).error();
        // Idle windows of other keys are swept now and then; this key's old admissions every time.
        sql::Statement expire(c, sweep ? "DELETE FROM rate_admissions WHERE admitted_at <= ?"
                                       : "DELETE FROM rate_admissions WHERE window_key = ? AND admitted_at <= ?");
        if (!sweep) expire.Bind(key);
        expire.Bind(now - kWindow);
        if (auto e = expire.Run(); !e) return std::move(e).error();
        sql::Statement count(c, "SELECT COUNT(*) FROM rate_admissions WHERE window_key = ?");
        count.Bind(key);
        auto row = count.Step();
        if (!row) return std::move(row).error();
        const auto used = static_cast<int>(count.Int(0));
        RateDecision d;
        d.limit = limit;
        if (used < limit) {
            sql::Statement ins(c, "INSERT INTO rate_admissions (window_key, admitted_at) VALUES (?, ?)");
            ins.Bind(key).Bind(now);
            if (auto i = ins.Run(); !i) return std::move(i).error();
            d.allowed = true;
            d.remaining = limit - used - 1;
            return d;
        }
        // The call is admitted once enough of the oldest admissions have left the window.
        sql::Statement oldest(c,
                              "SELECT admitted_at FROM rate_admissions WHERE window_key = ? ORDER BY admitted_at "
                              "LIMIT 1 OFFSET ?");
        oldest.Bind(key).Bind(used - limit);
        auto o = oldest.Step();
        if (!o) return std::move(o).error();
        const Micros frees_at = (*o ? oldest.Int(0) : now) + kWindow;
        d.allowed = false;
        d.remaining = 0;
        d.retry_after = std::max<std::int64_t>(1, (frees_at - now + 999'999) / 1'000'000);
        // Refused calls do not count, but the sweep above must still commit: return a value (commit).
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
