// SqlStore: runs, the durable queue, leases and run logs.
#include <map>

#include "core/ids.h"
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

namespace {

constexpr const char* kColumns =
    "SELECT r.id, r.account_id, r.automation_id, r.guid, b.guid, r.status, r.context, r.flow, r.inputs, "
    "r.start_payload, r.output, r.error, r.attempt, r.call_depth, r.idempotency_key, r.schedule_starttime, "
    "r.starttime, r.stoptime, r.created_at, r.updated_at, r.response FROM runs r JOIN automations b ON b.id = "
    "r.automation_id "
    "JOIN accounts a ON a.id = r.account_id ";

// Claims look at this many queued runs at most per call: enough to see past a few saturated accounts.
constexpr int kClaimScanWindow = 2000;

Run ReadRun(const Statement& s) {
    Run r;
    r.id = s.Int(0);
    r.account_id = s.Int(1);
    r.automation_id = s.Int(2);
    r.guid = s.Text(3);
    r.automation_guid = s.Text(4);
    r.status = s.Text(5);
    r.context = s.Text(6);
    r.flow = s.Text(7);
    r.inputs = s.Text(8);
    r.start_payload = s.OptText(9);
    r.output = s.OptText(10);
    r.error = s.OptText(11);
    r.attempt = static_cast<int>(s.Int(12));
    r.call_depth = static_cast<int>(s.Int(13));
    r.idempotency_key = s.OptText(14);
    r.schedule_starttime = s.OptInt(15);
    r.starttime = s.OptInt(16);
    r.stoptime = s.OptInt(17);
    r.created_at = s.Int(18);
    r.updated_at = s.Int(19);
    r.response = s.OptText(20);
    return r;
}

// Serializes the queue-cap check and insert of one account's runs across processes (PostgreSQL: the account
// row is locked until commit; SQLite: writes are serialized already).
Status LockAccount(Connection& c, std::int64_t account_id) {
    if (c.dialect() != sql::Dialect::kPostgres) return Ok();
    Statement s(c, "SELECT id FROM accounts WHERE id = ? FOR UPDATE");
    s.Bind(account_id);
    return s.Run();
}

// Serializes claims across processes (PostgreSQL): a claimer re-reads the running counts after taking it, so
// two processes never both start an account's last free slot.
constexpr std::int64_t kClaimLockKey = 0x77656674'636c6169;  // "weftclai"

Status LockClaims(Connection& c) {
    if (c.dialect() != sql::Dialect::kPostgres) return Ok();
    Statement s(c, "SELECT pg_advisory_xact_lock(?)");
    s.Bind(kClaimLockKey);
    return s.Run();
}

Result<Run> RunById(Connection& c, std::int64_t id) {
    return sql::QueryOne<Run>(
        c, std::string(kColumns) + "WHERE r.id = ?", [&](Statement& s) { s.Bind(id); }, ReadRun, "Run");
}

// A claimed run with the automation and account it needs to execute.
Result<ClaimedRun> LoadClaimed(Connection& c, std::int64_t id) {
    auto run = RunById(c, id);
    if (!run) return std::move(run).error();
    Statement ab(c,
                 "SELECT b.definition, b.persisted_inputs, b.name, b.guid, b.run_mode, a.guid, a.externalid, "
                 "a.name, a.partner_id FROM automations b JOIN accounts a ON a.id = b.account_id "
                 "WHERE b.id = ?");
    ab.Bind(run->automation_id);
    auto row = ab.Step();
    if (!row) return std::move(row).error();
    if (!*row) return Error::Internal("claimed run without automation");
    ClaimedRun cr;
    cr.automation.id = run->automation_id;
    cr.automation.account_id = run->account_id;
    cr.automation.definition = ab.Text(0);
    cr.automation.persisted_inputs = ab.Text(1);
    cr.automation.name = ab.Text(2);
    cr.automation.guid = ab.Text(3);
    cr.automation.run_mode = ab.Text(4);
    cr.account.id = run->account_id;
    cr.account.guid = ab.Text(5);
    cr.account.externalid = ab.Text(6);
    cr.account.name = ab.Text(7);
    cr.account.partner_id = ab.Int(8);
    cr.run = std::move(*run);
    return cr;
}

}  // namespace

Result<Run> SqlStore::EnqueueRun(PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since) {
    return db_->Write([&](Connection& c) -> Result<Run> {
        // The automation must belong to this partner's account.
        auto owner = sql::Count(c,
                                "SELECT COUNT(*) FROM automations b JOIN accounts a ON a.id = b.account_id "
                                "WHERE b.id = ? AND a.id = ? AND a.partner_id = ?",
                                [&](Statement& s) { s.Bind(run.automation_id).Bind(run.account_id).Bind(partner); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Automation not found.");
        if (auto l = LockAccount(c, run.account_id); !l) return std::move(l).error();
        if (run.idempotency_key) {
            auto earlier = sql::QueryOne<Run>(
                c, std::string(kColumns) + "WHERE r.automation_id = ? AND r.idempotency_key = ?",
                [&](Statement& s) { s.Bind(run.automation_id).Bind(*run.idempotency_key); }, ReadRun, "Run");
            if (earlier && earlier->created_at >= idempotent_since) return earlier;
            if (earlier) {
                // Expired key: it may be used again.
                Statement clear(c, "UPDATE runs SET idempotency_key = NULL WHERE id = ?");
                clear.Bind(earlier->id);
                if (auto r = clear.Run(); !r) return std::move(r).error();
            } else if (earlier.error().code != ErrorCode::kNotFound) {
                return std::move(earlier).error();
            }
        }
        auto queued = sql::Count(c, "SELECT COUNT(*) FROM runs WHERE account_id = ? AND status = 'queued'",
                                 [&](Statement& s) { s.Bind(run.account_id); });
        if (!queued) return std::move(queued).error();
        if (*queued >= queue_cap) {
            return Error{ErrorCode::kQueueFull,
                         "The account already has " + std::to_string(*queued) +
                             " queued runs, the most it may have; try again when some have started.",
                         {},
                         {}};
        }
        Statement s(c,
                    "INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload, "
                    "attempt, call_depth, idempotency_key, schedule_starttime, created_at, updated_at) "
                    "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)");
        s.Bind(run.account_id).Bind(run.automation_id).Bind(run.guid).Bind(run.context).Bind(run.flow);
        s.Bind(run.inputs).Bind(run.start_payload).Bind(run.call_depth).Bind(run.idempotency_key);
        s.Bind(run.schedule_starttime).Bind(run.created_at).Bind(run.updated_at);
        if (auto r = s.Run(); !r) return std::move(r).error();
        return RunById(c, c.LastInsertId());
    });
}

Result<Run> SqlStore::FindRun(PartnerId partner, std::int64_t automation_id, std::string_view guid) {
    return db_->Read([&](Connection& c) {
        return sql::QueryOne<Run>(
            c, std::string(kColumns) + "WHERE a.partner_id = ? AND r.automation_id = ? AND r.guid = ?",
            [&](Statement& s) { s.Bind(partner).Bind(automation_id).Bind(guid); }, ReadRun, "Run");
    });
}

Result<Run> SqlStore::GetRunById(std::int64_t run_id) {
    return db_->Read([&](Connection& c) { return RunById(c, run_id); });
}

Result<Page<Run>> SqlStore::ListRuns(PartnerId partner, std::int64_t automation_id, const RunFilter& f,
                                     const PageRequest& page) {
    static constexpr const char* kWhere =
        "WHERE a.partner_id = ?1 AND r.automation_id = ?2 "
        "AND (?3 = 0 OR r.status IN ('finished', 'finished with warnings', 'failed', 'stopped')) "
        "AND (r.status = ?4 OR ?4 IS NULL) AND (r.created_at > ?5 OR ?5 IS NULL) "
        "AND (r.created_at >= ?6 OR ?6 IS NULL) AND (r.created_at < ?7 OR ?7 IS NULL) "
        "AND (r.created_at <= ?8 OR ?8 IS NULL) ";
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<Run>> {
        auto bind = [&](Statement& s) {
            s.Bind(partner).Bind(automation_id).Bind(f.finished_only).Bind(f.status);
            s.Bind(f.created_gt).Bind(f.created_gte).Bind(f.created_lt).Bind(f.created_lte);
        };
        auto total = sql::Count(
            c, std::string("SELECT COUNT(*) FROM runs r JOIN accounts a ON a.id = r.account_id ") + kWhere, bind);
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<Run>(
            c, std::string(kColumns) + kWhere + "ORDER BY r.id DESC LIMIT ?9 OFFSET ?10",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadRun);
        if (!items) return std::move(items).error();
        return Page<Run>{std::move(*items), *total};
    });
}

Result<std::vector<ClaimedRun>> SqlStore::ClaimRuns(const std::string& owner, int max, Micros now, Micros lease_until) {
    return db_->Write([&](Connection& c) -> Result<std::vector<ClaimedRun>> {
        if (auto l = LockClaims(c); !l) return std::move(l).error();
        struct Candidate {
            std::int64_t id, account_id;
            int concurrency;
        };
        auto candidates = sql::QueryAll<Candidate>(
            c,
            "SELECT r.id, r.account_id, p.concurrency FROM runs r JOIN accounts a ON a.id = r.account_id "
            "JOIN partners p ON p.app_id = a.partner_id WHERE r.status = 'queued' ORDER BY r.id LIMIT ?",
            [&](Statement& s) { s.Bind(kClaimScanWindow); },
            [](const Statement& s) {
                return Candidate{s.Int(0), s.Int(1), static_cast<int>(s.Int(2))};
            });
        if (!candidates) return std::move(candidates).error();
        std::map<std::int64_t, std::int64_t> running;  // account -> running now (claimed ones included)
        std::vector<std::int64_t> claimed;
        for (const auto& cand : *candidates) {
            if (static_cast<int>(claimed.size()) >= max) break;
            auto it = running.find(cand.account_id);
            if (it == running.end()) {
                auto n = sql::Count(
                    c, "SELECT COUNT(*) FROM runs WHERE account_id = ? AND status IN ('running', 'must stop')",
                    [&](Statement& s) { s.Bind(cand.account_id); });
                if (!n) return std::move(n).error();
                it = running.emplace(cand.account_id, *n).first;
            }
            if (it->second >= cand.concurrency) continue;  // FIFO per account: its later runs wait too
            // PostgreSQL: a run another transaction holds (a stop request) is skipped, not waited for.
            Statement u(c, c.dialect() == sql::Dialect::kPostgres
                               ? "UPDATE runs SET status = 'running', starttime = ?, lease_owner = ?, "
                                 "lease_expires_at = ?, updated_at = ? WHERE id = (SELECT id FROM runs WHERE id = ? "
                                 "AND status = 'queued' FOR UPDATE SKIP LOCKED)"
                               : "UPDATE runs SET status = 'running', starttime = ?, lease_owner = ?, "
                                 "lease_expires_at = ?, updated_at = ? WHERE id = ? AND status = 'queued'");
            u.Bind(now).Bind(owner).Bind(lease_until).Bind(now).Bind(cand.id);
            if (auto r = u.Run(); !r) return std::move(r).error();
            if (c.Changes() == 0) continue;  // stopped or taken meanwhile
            ++it->second;
            claimed.push_back(cand.id);
        }
        std::vector<ClaimedRun> out;
        for (auto id : claimed) {
            auto cr = LoadClaimed(c, id);
            if (!cr) return std::move(cr).error();
            out.push_back(std::move(*cr));
        }
        return out;
    });
}

Result<std::optional<ClaimedRun>> SqlStore::ClaimRun(std::int64_t run_id, const std::string& owner, Micros now,
                                                     Micros lease_until) {
    return db_->Write([&](Connection& c) -> Result<std::optional<ClaimedRun>> {
        Statement u(c,
                    "UPDATE runs SET status = 'running', starttime = ?, lease_owner = ?, lease_expires_at = ?, "
                    "updated_at = ? WHERE id = ? AND status = 'queued'");
        u.Bind(now).Bind(owner).Bind(lease_until).Bind(now).Bind(run_id);
        if (auto r = u.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return std::optional<ClaimedRun>();
        auto cr = LoadClaimed(c, run_id);
        if (!cr) return std::move(cr).error();
        return std::optional<ClaimedRun>(std::move(*cr));
    });
}

Status SqlStore::RenewLeases(const std::string& owner, const std::vector<std::int64_t>& run_ids, Micros lease_until) {
    if (run_ids.empty()) return Ok();
    return db_->Write([&](Connection& c) -> Status {
        for (auto id : run_ids) {
            Statement s(c, "UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?");
            s.Bind(lease_until).Bind(id).Bind(owner);
            if (auto r = s.Run(); !r) return r;
        }
        return Ok();
    });
}

Result<int> SqlStore::ReapExpiredLeases(Micros now, int max_attempts) {
    return db_->Write([&](Connection& c) -> Result<int> {
        Statement stop(c,
                       "UPDATE runs SET status = 'stopped', stoptime = ?1, lease_owner = NULL, "
                       "lease_expires_at = NULL, updated_at = ?1 WHERE status = 'must stop' AND lease_expires_at < ?1");
        stop.Bind(now);
        if (auto r = stop.Run(); !r) return std::move(r).error();
        int touched = c.Changes();
        Statement fail(c,
                       "UPDATE runs SET status = 'failed', stoptime = ?1, lease_owner = NULL, lease_expires_at = NULL, "
                       "error = '{\"message\":\"worker lost\",\"block_id\":null}', updated_at = ?1 "
                       "WHERE status = 'running' AND lease_expires_at < ?1 AND attempt >= ?2");
        fail.Bind(now).Bind(max_attempts);
        if (auto r = fail.Run(); !r) return std::move(r).error();
        touched += c.Changes();
        Statement requeue(
            c,
            "UPDATE runs SET status = 'queued', attempt = attempt + 1, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = ?1 WHERE status = 'running' AND lease_expires_at < ?1");
        requeue.Bind(now);
        if (auto r = requeue.Run(); !r) return std::move(r).error();
        touched += c.Changes();
        return touched;
    });
}

namespace {

Status AppendLogs(Connection& c, std::int64_t run_id, const std::vector<std::string>& entries) {
    if (entries.empty()) return Ok();
    // Entries of a run executed again (after a lost worker) follow those of its earlier attempt.
    auto last = sql::Count(c, "SELECT COALESCE(MAX(seq), 0) FROM run_logs WHERE run_id = ?",
                           [&](Statement& s) { s.Bind(run_id); });
    if (!last) return std::move(last).error();
    std::int64_t seq = *last + 1;
    for (const auto& e : entries) {
        Statement s(c, "INSERT INTO run_logs (run_id, seq, entry) VALUES (?, ?, ?)");
        s.Bind(run_id).Bind(seq++).Bind(e);
        if (auto r = s.Run(); !r) return r;
    }
    return Ok();
}

}  // namespace

Status SqlStore::AppendRunLogs(std::int64_t run_id, const std::vector<std::string>& entries) {
    if (entries.empty()) return Ok();
    return db_->Write([&](Connection& c) { return AppendLogs(c, run_id, entries); });
}

Result<Page<std::string>> SqlStore::ListRunLogs(PartnerId partner, std::int64_t run_id, const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<std::string>> {
        auto owner = sql::Count(
            c, "SELECT COUNT(*) FROM runs r JOIN accounts a ON a.id = r.account_id WHERE r.id = ? AND a.partner_id = ?",
            [&](Statement& s) { s.Bind(run_id).Bind(partner); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Run not found.");
        auto total =
            sql::Count(c, "SELECT COUNT(*) FROM run_logs WHERE run_id = ?", [&](Statement& s) { s.Bind(run_id); });
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<std::string>(
            c, "SELECT entry FROM run_logs WHERE run_id = ? ORDER BY seq LIMIT ? OFFSET ?",
            [&](Statement& s) { s.Bind(run_id).Bind(page.limit).Bind(page.offset); },
            [](const Statement& s) { return s.Text(0); });
        if (!items) return std::move(items).error();
        return Page<std::string>{std::move(*items), *total};
    });
}

Result<Run> SqlStore::FinishRun(std::int64_t run_id, const RunOutcome& o) {
    return db_->Write([&](Connection& c) -> Result<Run> {
        Statement s(
            c,
            "UPDATE runs SET status = ?, output = ?, error = ?, response = ?, stoptime = ?, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status IN ('running', 'must stop')");
        s.Bind(o.status).Bind(o.output).Bind(o.error).Bind(o.response).Bind(o.stoptime).Bind(o.stoptime).Bind(run_id);
        if (auto r = s.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) {
            // Deleted (with its account or automation), or no longer this worker's to end (its lease lapsed and
            // the reaper requeued it): record nothing.
            auto now = RunById(c, run_id);
            if (!now) return now;
            return Error::Conflict("The run is no longer running (now " + now->status + ").");
        }
        if (auto r = AppendLogs(c, run_id, o.logs); !r) return std::move(r).error();
        const bool succeeded = o.status == kRunStatusFinished || o.status == kRunStatusFinishedWithWarnings;
        Statement last(c,
                       "UPDATE automations SET last_run_at = (SELECT starttime FROM runs WHERE id = ?1), "
                       "setup_complete = CASE WHEN ?2 = 1 AND (SELECT flow FROM runs WHERE id = ?1) = 'setup' "
                       "THEN 1 ELSE setup_complete END WHERE id = (SELECT automation_id FROM runs WHERE id = ?1)");
        last.Bind(run_id).Bind(succeeded);
        if (auto r = last.Run(); !r) return std::move(r).error();
        if (c.dialect() == sql::Dialect::kPostgres) {
            // Wakes sync callers waiting on other processes (delivered when this transaction commits).
            Statement notify(c, "SELECT pg_notify('weft_run_finished', ?)");
            notify.Bind(std::to_string(run_id));
            if (auto r = notify.Run(); !r) return std::move(r).error();
        }
        auto ended = RunById(c, run_id);
        if (!ended || !succeeded || ended->flow != "delete") return ended;
        // The Delete flow did its work: the automation goes now, in the transaction that records the run's end.
        Statement remove(c, "DELETE FROM automations WHERE id = ?");
        remove.Bind(ended->automation_id);
        if (auto r = remove.Run(); !r) return std::move(r).error();
        return ended;
    });
}

Result<Run> SqlStore::RequestRunStop(PartnerId partner, std::int64_t run_id, Micros now) {
    return db_->Write([&](Connection& c) -> Result<Run> {
        auto run = sql::QueryOne<Run>(
            c, std::string(kColumns) + "WHERE r.id = ? AND a.partner_id = ?",
            [&](Statement& s) { s.Bind(run_id).Bind(partner); }, ReadRun, "Run");
        if (!run) return run;
        Statement s(c,
                    "UPDATE runs SET status = CASE status WHEN 'queued' THEN 'stopped' ELSE 'must stop' END, "
                    "stoptime = CASE status WHEN 'queued' THEN ?1 ELSE stoptime END, updated_at = ?1 "
                    "WHERE id = ?2 AND status IN ('queued', 'running')");
        s.Bind(now).Bind(run_id);
        if (auto r = s.Run(); !r) return std::move(r).error();
        return RunById(c, run_id);
    });
}

Result<bool> SqlStore::StopRequested(std::int64_t run_id) {
    return db_->Read([&](Connection& c) -> Result<bool> {
        Statement s(c, "SELECT status FROM runs WHERE id = ?");
        s.Bind(run_id);
        auto row = s.Step();
        if (!row) return std::move(row).error();
        return !*row || s.Text(0) != kRunStatusRunning;
    });
}

Result<RunExport> SqlStore::ExportRun(std::string_view guid) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<RunExport> {
        auto run = sql::QueryOne<Run>(
            c, std::string(kColumns) + "WHERE r.guid = ?", [&](Statement& s) { s.Bind(guid); }, ReadRun, "Run");
        if (!run) return std::move(run).error();
        auto logs = sql::QueryAll<std::string>(
            c, "SELECT entry FROM run_logs WHERE run_id = ? ORDER BY seq", [&](Statement& s) { s.Bind(run->id); },
            [](const Statement& s) { return s.Text(0); });
        if (!logs) return std::move(logs).error();
        return RunExport{std::move(*run), std::move(*logs)};
    });
}

Result<std::vector<Run>> SqlStore::ListActiveRuns(PartnerId partner, std::int64_t account_id) {
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<Run>(
            c,
            std::string(kColumns) +
                "WHERE a.partner_id = ? AND r.account_id = ? AND r.status IN ('queued', 'running', 'must stop') "
                "ORDER BY r.id",
            [&](Statement& s) { s.Bind(partner).Bind(account_id); }, ReadRun);
    });
}

Result<int> SqlStore::PruneRuns(Micros before, int batch) {
    return db_->Write([&](Connection& c) -> Result<int> {
        Statement s(c,
                    "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE stoptime < ? AND status IN "
                    "('finished', 'finished with warnings', 'failed', 'stopped') ORDER BY stoptime LIMIT ?)");
        s.Bind(before).Bind(batch);
        if (auto r = s.Run(); !r) return std::move(r).error();
        return c.Changes();
    });
}

}  // namespace weft
