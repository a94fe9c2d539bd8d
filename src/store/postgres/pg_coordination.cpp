#include "store/postgres/pg_coordination.h"

#include <sys/select.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

namespace weft::pg {

RateDecision PgRateLimiter::Admit(const std::string& key, int limit, Micros now) {
    Request request{&key, limit, now, std::nullopt, {}};
    groups_.Submit(request, [this](const std::vector<Request*>& batch) { Decide(batch); });
    return request.decision;
}

RateDecision PgRateLimiter::AdmitConfirming(const std::string& key, int limit, Micros now, std::int64_t epoch) {
    Request request{&key, limit, now, epoch, {}};
    groups_.Submit(request, [this](const std::vector<Request*>& batch) { Decide(batch); });
    return request.decision;
}

void PgRateLimiter::Decide(const std::vector<Request*>& batch) {
    // Nearly always one statement: the calls that arrive together confirm the epoch the cache holds, or none.
    std::vector<std::optional<std::int64_t>> epochs;
    for (const Request* r : batch) {
        if (std::find(epochs.begin(), epochs.end(), r->epoch) == epochs.end()) epochs.push_back(r->epoch);
    }
    if (epochs.size() == 1) return DecideGroup(batch, epochs.front());
    for (const auto& epoch : epochs) {
        std::vector<Request*> part;
        for (Request* r : batch) {
            if (r->epoch == epoch) part.push_back(r);
        }
        DecideGroup(part, epoch);
    }
}

void PgRateLimiter::DecideGroup(const std::vector<Request*>& batch, std::optional<std::int64_t> epoch) {
    constexpr Micros kWindow = InMemoryRateLimiter::kWindow;
    // One entry per key, in order of first arrival; its calls in arrival order. A group is decided at its latest
    // call's time (the calls are microseconds apart), under its first call's limit (a key's limit is its
    // partner's, the same for every call but one made across a change of it).
    struct Group {
        std::vector<Request*> calls;
        Micros now = 0;
    };
    std::vector<std::string> keys;
    std::vector<Group> groups;
    std::unordered_map<std::string_view, std::size_t> index;
    for (Request* r : batch) {
        auto [it, added] = index.try_emplace(*r->key, groups.size());
        if (added) {
            keys.push_back(*r->key);
            groups.emplace_back();
        }
        Group& g = groups[it->second];
        g.calls.push_back(r);
        g.now = std::max(g.now, r->now);
    }
    std::vector<std::int64_t> limits, counts, times;
    for (const Group& g : groups) {
        limits.push_back(g.calls.front()->limit);
        counts.push_back(static_cast<std::int64_t>(g.calls.size()));
        times.push_back(g.now);
    }
    const Micros latest = *std::max_element(times.begin(), times.end());
    // Committed on its own (no BEGIN/COMMIT round trips). The tables are UNLOGGED, so the commit waits for no
    // WAL flush.
    std::optional<std::int64_t> read_epoch;
    bool stale = false;
    auto decided = db_.WriteAutocommit([&](sql::Connection& c) -> Result<bool> {
        since_sweep_ += static_cast<int>(batch.size());
        if (since_sweep_ >= 1000) {
            since_sweep_ = 0;
            sql::Statement sweep(c, "SELECT weft_rate_sweep(?)");
            sweep.Bind(latest - kWindow);
            if (auto s = sweep.Run(); !s) return std::move(s).error();
        }
        sql::Statement admit(
            c,
            "SELECT window_key, used, admitted, retry_at, epoch FROM weft_rate_admit_many(CAST(? AS "
            "TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT), "
            "CAST(? AS BIGINT))");
        admit.Bind(sql::TextArrayLiteral(keys))
            .Bind(sql::IntArrayLiteral(limits))
            .Bind(sql::IntArrayLiteral(counts))
            .Bind(sql::IntArrayLiteral(times))
            .Bind(kWindow)
            .Bind(epoch);
        std::size_t rows = 0;
        for (;;) {
            auto row = admit.Step();
            if (!row) return std::move(row).error();
            if (!*row) break;
            if (!admit.IsNull(4)) read_epoch = admit.Int(4);
            if (admit.IsNull(0)) {
                stale = true;  // the epoch moved: nothing was decided
                return true;
            }
            auto it = index.find(admit.Text(0));
            if (it == index.end()) return Error::Internal("weft_rate_admit_many returned an unknown key");
            Group& g = groups[it->second];
            const std::int64_t used = admit.Int(1), admitted = admit.Int(2);
            const std::int64_t retry_at = admit.IsNull(3) ? g.now : admit.Int(3);
            for (std::size_t i = 0; i < g.calls.size(); ++i) {
                RateDecision& d = g.calls[i]->decision;
                d.limit = g.calls[i]->limit;
                d.allowed = static_cast<std::int64_t>(i) < admitted;
                d.remaining = d.allowed ? static_cast<int>(g.calls.front()->limit - used - 1 - i) : 0;
                d.retry_after = d.allowed ? 0 : RetryAfterSeconds(retry_at, g.now);
            }
            ++rows;
        }
        if (rows != groups.size()) return Error::Internal("weft_rate_admit_many left keys undecided");
        return true;
    });
    if (read_epoch && observe_epoch_) observe_epoch_(*read_epoch);
    for (Request* r : batch) {
        if (stale || (!decided && r->epoch)) {
            r->decision = RateDecision{};
            r->decision.stale = true;
        } else if (!decided) {
            r->decision = RateDecision{true, r->limit, 0, 0};
        }
        r->done = true;
    }
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
