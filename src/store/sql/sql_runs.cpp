// SqlStore: runs, the durable queue, leases and run logs.
#include <algorithm>
#include <map>
#include <set>

#include "core/ids.h"
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

namespace {

#define WEFT_RUN_COLUMNS                                                                                     \
    "SELECT r.id, r.account_id, r.automation_id, r.guid, b.guid, r.status, r.context, r.flow, r.inputs, "    \
    "r.start_payload, r.output, r.error, r.attempt, r.call_depth, r.idempotency_key, r.schedule_starttime, " \
    "r.starttime, r.stoptime, r.created_at, r.updated_at, r.response"
#define WEFT_RUN_JOINS \
    " FROM runs r JOIN automations b ON b.id = r.automation_id JOIN accounts a ON a.id = r.account_id "

constexpr const char* kColumns = WEFT_RUN_COLUMNS WEFT_RUN_JOINS;
// A run (columns 0-20) with what executing it needs of its automation and account (21-28).
constexpr const char* kClaimedColumns = WEFT_RUN_COLUMNS
    ", b.definition, b.persisted_inputs, b.name, b.run_mode, a.guid, a.externalid, a.name, a.partner_id" WEFT_RUN_JOINS;
#undef WEFT_RUN_COLUMNS
#undef WEFT_RUN_JOINS

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

// The account's runs that hold one of its concurrency slots.
Result<std::int64_t> CountRunning(Connection& c, std::int64_t account_id) {
    // Two equalities rather than `status IN (...)`: PostgreSQL may plan the IN as a filter over every index entry
    // of the account (ended runs included) when the plan is made while the table is still small.
    return sql::Count(c,
                      "SELECT (SELECT COUNT(*) FROM runs WHERE account_id = ?1 AND status = 'running') + "
                      "(SELECT COUNT(*) FROM runs WHERE account_id = ?1 AND status = 'must stop')",
                      [&](Statement& s) { s.Bind(account_id); });
}

// Serializes claims across processes (PostgreSQL, weft_claim_runs): a claimer re-reads the running counts after
// taking it, so two processes never both start an account's last free slot.
constexpr std::int64_t kClaimLockKey = 0x77656674'636c6169;  // "weftclai"

Result<Run> RunById(Connection& c, std::int64_t id) {
    return sql::QueryOne<Run>(
        c, std::string(kColumns) + "WHERE r.id = ?", [&](Statement& s) { s.Bind(id); }, ReadRun, "Run");
}

// A claimed run with the automation and account it needs to execute (a kClaimedColumns row, or a weft_claim_runs
// row: the same columns in the same order).
ClaimedRun ReadClaimed(const Statement& s) {
    ClaimedRun cr;
    cr.run = ReadRun(s);
    cr.automation.id = cr.run.automation_id;
    cr.automation.account_id = cr.run.account_id;
    cr.automation.guid = cr.run.automation_guid;
    cr.automation.definition = s.Text(21);
    cr.automation.persisted_inputs = s.Text(22);
    cr.automation.name = s.Text(23);
    cr.automation.run_mode = s.Text(24);
    cr.account.id = cr.run.account_id;
    cr.account.guid = s.Text(25);
    cr.account.externalid = s.Text(26);
    cr.account.name = s.Text(27);
    cr.account.partner_id = s.Int(28);
    return cr;
}

// "?, ?, ?" for an IN list of `ids`, padded to a power of two with id 0 (no run has it), so that a statement
// has a few cached shapes rather than one per batch size.
std::size_t InListSize(std::size_t ids) {
    std::size_t n = 1;
    while (n < ids) n <<= 1;
    return n;
}

std::string InList(std::size_t ids) {
    const std::size_t n = InListSize(ids);
    std::string out = "?";
    for (std::size_t i = 1; i < n; ++i) out += ", ?";
    return out;
}

void BindInList(Statement& s, const std::vector<std::int64_t>& ids) {
    const std::size_t n = InListSize(ids.size());
    for (std::size_t i = 0; i < n; ++i) s.Bind(i < ids.size() ? ids[i] : std::int64_t{0});
}

// Marks the given queued runs running (those still queued and, on PostgreSQL, not held by another transaction)
// and loads them with their automations and accounts.
Result<std::vector<ClaimedRun>> StartRuns(Connection& c, const std::vector<std::int64_t>& ids, const std::string& owner,
                                          Micros now, Micros lease_until) {
    std::vector<ClaimedRun> out;
    if (ids.empty()) return out;
    const std::string in = InList(ids.size());
    // PostgreSQL: a run another transaction holds (a stop request) is skipped, not waited for.
    Statement u(c, c.dialect() == sql::Dialect::kPostgres
                       ? "UPDATE runs SET status = 'running', starttime = ?, lease_owner = ?, lease_expires_at = ?, "
                         "updated_at = ? WHERE id IN (SELECT id FROM runs WHERE id IN (" +
                             in + ") AND status = 'queued' FOR UPDATE SKIP LOCKED) RETURNING id"
                       : "UPDATE runs SET status = 'running', starttime = ?, lease_owner = ?, lease_expires_at = ?, "
                         "updated_at = ? WHERE id IN (" +
                             in + ") AND status = 'queued' RETURNING id");
    u.Bind(now).Bind(owner).Bind(lease_until).Bind(now);
    BindInList(u, ids);
    std::vector<std::int64_t> started;
    for (;;) {
        auto row = u.Step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        started.push_back(u.Int(0));
    }
    if (started.empty()) return out;
    Statement load(c, std::string(kClaimedColumns) + "WHERE r.id IN (" + InList(started.size()) + ") ORDER BY r.id");
    BindInList(load, started);
    for (;;) {
        auto row = load.Step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        out.push_back(ReadClaimed(load));
    }
    return out;
}

}  // namespace

namespace {

Error QueueFull(std::int64_t queued) {
    return Error{ErrorCode::kQueueFull,
                 "The account already has " + std::to_string(queued) +
                     " queued runs, the most it may have; try again when some have started.",
                 {},
                 {}};
}

// The new run as the store now holds it: queued, or running since its creation when it started where it was
// submitted.
Run Enqueued(const Run& run, std::int64_t id, std::string automation_guid, bool started) {
    Run out = run;
    out.id = id;
    out.automation_guid = std::move(automation_guid);
    out.status = started ? kRunStatusRunning : kRunStatusQueued;
    out.attempt = 1;
    out.output.reset();
    out.error.reset();
    out.response.reset();
    out.starttime = started ? std::optional<Micros>(run.created_at) : std::nullopt;
    out.stoptime.reset();
    return out;
}

// One run queued (or started here) in the write transaction of c.
Result<Run> EnqueueIn(Connection& c, PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since,
                      const StartHere* start) {
    // The automation must belong to this partner's account. On PostgreSQL the account's queue lock (and slots
    // lock) is held until commit: the queue-cap check and the insert of one account's runs happen one at a time
    // across processes (SQLite serializes writes anyway).
    // (SQLite counts the account's queued runs in the same statement, and its running ones when the run may
    // start here; PostgreSQL must count after the lock is granted.)
    const bool pg = c.dialect() == sql::Dialect::kPostgres;
    const bool may_start = start != nullptr;
    std::string owner_sql = "SELECT b.guid";
    if (!pg) {
        owner_sql += ", (SELECT COUNT(*) FROM runs q WHERE q.account_id = a.id AND q.status = 'queued')";
        if (may_start) {
            // (Each status apart: SQLite reads runs_active for an equality, not for an IN list.)
            owner_sql +=
                ", (SELECT COUNT(*) FROM runs q WHERE q.account_id = a.id AND q.status = 'running') + (SELECT "
                "COUNT(*) FROM runs q WHERE q.account_id = a.id AND q.status = 'must stop')";
        }
    }
    owner_sql +=
        " FROM automations b JOIN accounts a ON a.id = b.account_id WHERE b.id = ? AND a.id = ? AND "
        "a.partner_id = ?";
    if (pg) {
        // The account's queue lock, and its slots lock when the run may start here (migration 16); the key-share
        // row lock waits for an account being deleted, which is then not found.
        for (int kind : {1, 2}) {
            if (kind == 2 && !may_start) break;
            Statement lock(c, "SELECT weft_lock_accounts(CAST(ARRAY[?] AS BIGINT[]), ?)");
            lock.Bind(run.account_id).Bind(kind);
            if (auto r = lock.Run(); !r) return std::move(r).error();
        }
        owner_sql += " FOR KEY SHARE OF a";
    }
    Statement owner(c, owner_sql);
    owner.Bind(run.automation_id).Bind(run.account_id).Bind(partner);
    auto found = owner.Step();
    if (!found) return std::move(found).error();
    if (!*found) return Error::NotFound("Automation not found.");
    std::string automation_guid = owner.Text(0);
    const std::int64_t queued_counted = pg ? -1 : owner.Int(1);  // -1: not counted yet
    std::int64_t running_counted = may_start && !pg ? owner.Int(2) : -1;
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
    auto queued = queued_counted >= 0
                      ? Result<std::int64_t>(queued_counted)
                      : sql::Count(c, "SELECT COUNT(*) FROM runs WHERE account_id = ? AND status = 'queued'",
                                   [&](Statement& q) { q.Bind(run.account_id); });
    if (!queued) return std::move(queued).error();
    if (*queued >= queue_cap) return QueueFull(*queued);
    if (may_start && *queued == 0 && pg) {
        auto running = CountRunning(c, run.account_id);
        if (!running) return std::move(running).error();
        running_counted = *running;
    }
    // A free slot and nothing queued before it: the run starts here, now, under the caller's lease.
    const bool started = may_start && *queued == 0 && running_counted < start->concurrency;
    // (Not one INSERT ... SELECT with the count: SQLite would copy the rows through a temporary table first,
    // as the statement reads the table it writes.)
    Statement s(c,
                "INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload, "
                "attempt, call_depth, idempotency_key, schedule_starttime, starttime, lease_owner, "
                "lease_expires_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    s.Bind(run.account_id).Bind(run.automation_id).Bind(run.guid);
    s.Bind(started ? kRunStatusRunning : kRunStatusQueued).Bind(run.context).Bind(run.flow);
    s.Bind(run.inputs).Bind(run.start_payload).Bind(run.call_depth).Bind(run.idempotency_key);
    s.Bind(run.schedule_starttime);
    if (started) {
        s.Bind(run.created_at).Bind(start->owner).Bind(start->lease_until);
    } else {
        s.BindNull().BindNull().BindNull();
    }
    s.Bind(run.created_at).Bind(run.updated_at);
    auto inserted = s.Step();
    if (!inserted) return std::move(inserted).error();
    if (!*inserted) return Error::Internal("INSERT ... RETURNING returned no row");
    return Enqueued(run, s.Int(0), std::move(automation_guid), started);
}

// A CallAdmission this store cannot decide with the run (SQLite, or a run with an idempotency key): answered
// stale, so that the caller decides the call on its own and asks again. (Callers check AdmitsInEnqueue.)
Error AdmissionNotDecidedHere(CallAdmission& admission) {
    admission.decided = true;
    admission.decision = RateDecision{};
    admission.decision.stale = true;
    return Error::Unavailable("The call's rate decision cannot be made with its run here.");
}

}  // namespace

bool SqlStore::AdmitsInEnqueue() const { return db_->dialect() == sql::Dialect::kPostgres; }

Result<Run> SqlStore::EnqueueRun(PartnerId partner, const Run& run, int queue_cap, Micros idempotent_since,
                                 const StartHere* start, CallAdmission* admission) {
    if (db_->dialect() == sql::Dialect::kPostgres && !run.idempotency_key) {
        // The account's queue lock is held until commit (the queue cap is exact across processes), so one
        // transaction per run would make an account's runs queue for each other's commits. Runs queued at the
        // same time share a transaction and its commit instead.
        EnqueueRequest request{partner, run, queue_cap, start, admission, std::nullopt, false};
        enqueues_.Submit(request, [this](std::vector<EnqueueRequest*>& batch) { EnqueueBatch(batch); });
        return std::move(*request.result);
    }
    if (admission) return AdmissionNotDecidedHere(*admission);
    return db_->Write([&](Connection& c) { return EnqueueIn(c, partner, run, queue_cap, idempotent_since, start); });
}

void SqlStore::EnqueueRunAsync(PartnerId partner, Run run, int queue_cap, Micros idempotent_since,
                               std::function<void(Result<Run>)> done, std::shared_ptr<CallAdmission> admission,
                               std::optional<StartHere> start) {
    if (db_->dialect() == sql::Dialect::kPostgres) {
        // (Its enqueues are combined into batches that their callers wait for: see EnqueueRun.)
        return Store::EnqueueRunAsync(partner, std::move(run), queue_cap, idempotent_since, std::move(done),
                                      std::move(admission), std::move(start));
    }
    if (admission) return done(AdmissionNotDecidedHere(*admission));
    // The run joins the next group commit without holding this thread (SQLite: one process writes, so the
    // cap is exact whichever batch the run lands in).
    auto owned = std::make_shared<const Run>(std::move(run));
    db_->WriteAsync<Result<Run>>(
        [partner, owned, queue_cap, idempotent_since, start = std::move(start)](Connection& c) {
            return EnqueueIn(c, partner, *owned, queue_cap, idempotent_since, start ? &*start : nullptr);
        },
        std::move(done));
}

void SqlStore::EnqueueBatch(std::vector<EnqueueRequest*>& batch) {
    // One statement for the batch: weft_enqueue_runs (migration 14) decides each run in turn, in arrival order, as
    // if queued one after the other, and answers in the same order. (It takes the accounts' locks in one order for
    // every caller, whatever the batch's.)
    std::vector<std::int64_t> partners, accounts, automations, depths, created, updated, caps;
    std::vector<std::string> guids, contexts, flows, inputs;
    std::vector<std::optional<std::string>> payloads, owners;
    std::vector<std::optional<std::int64_t>> schedule_starts, leases, concurrencies;
    std::vector<std::optional<std::string>> rate_keys;
    std::vector<std::optional<std::int64_t>> rate_limits, rate_nows, rate_epochs;
    for (const auto* r : batch) {
        const Run& run = r->run;
        partners.push_back(r->partner);
        accounts.push_back(run.account_id);
        automations.push_back(run.automation_id);
        guids.push_back(run.guid);
        contexts.push_back(run.context);
        flows.push_back(run.flow);
        inputs.push_back(run.inputs);
        payloads.push_back(run.start_payload);
        depths.push_back(run.call_depth);
        schedule_starts.push_back(run.schedule_starttime);
        created.push_back(run.created_at);
        updated.push_back(run.updated_at);
        caps.push_back(r->queue_cap);
        owners.push_back(r->start ? std::optional<std::string>(r->start->owner) : std::nullopt);
        leases.push_back(r->start ? std::optional<std::int64_t>(r->start->lease_until) : std::nullopt);
        concurrencies.push_back(r->start ? std::optional<std::int64_t>(r->start->concurrency) : std::nullopt);
        const CallAdmission* a = r->admission;
        rate_keys.push_back(a ? std::optional<std::string>(a->window) : std::nullopt);
        rate_limits.push_back(a ? std::optional<std::int64_t>(a->limit) : std::nullopt);
        rate_nows.push_back(a ? std::optional<std::int64_t>(a->now) : std::nullopt);
        rate_epochs.push_back(a ? std::optional<std::int64_t>(a->epoch) : std::nullopt);
    }
    // One statement, its own transaction: no BEGIN and COMMIT round trips (the accounts' locks are held until it
    // commits).
    auto committed = db_->WriteStatement([&](Connection& c) -> Status {
        Statement s(c,
                    "SELECT * FROM weft_enqueue_runs(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), "
                    "CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), "
                    "CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), "
                    "CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), "
                    "CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), "
                    "CAST(? AS BIGINT))");
        s.Bind(sql::IntArrayLiteral(partners))
            .Bind(sql::IntArrayLiteral(accounts))
            .Bind(sql::IntArrayLiteral(automations))
            .Bind(sql::TextArrayLiteral(guids))
            .Bind(sql::TextArrayLiteral(contexts))
            .Bind(sql::TextArrayLiteral(flows))
            .Bind(sql::TextArrayLiteral(inputs))
            .Bind(sql::NullableTextArrayLiteral(payloads))
            .Bind(sql::IntArrayLiteral(depths))
            .Bind(sql::NullableIntArrayLiteral(schedule_starts))
            .Bind(sql::IntArrayLiteral(created))
            .Bind(sql::IntArrayLiteral(updated))
            .Bind(sql::IntArrayLiteral(caps))
            .Bind(sql::NullableTextArrayLiteral(owners))
            .Bind(sql::NullableIntArrayLiteral(leases))
            .Bind(sql::NullableIntArrayLiteral(concurrencies))
            .Bind(sql::NullableTextArrayLiteral(rate_keys))
            .Bind(sql::NullableIntArrayLiteral(rate_limits))
            .Bind(sql::NullableIntArrayLiteral(rate_nows))
            .Bind(sql::NullableIntArrayLiteral(rate_epochs))
            .Bind(InMemoryRateLimiter::kWindow);
        for (auto* r : batch) {
            auto row = s.Step();
            if (!row) return std::move(row).error();  // the transaction is lost: every request fails (or retries)
            if (!*row) return Error::Internal("weft_enqueue_runs answered fewer runs than it was given");
            if (CallAdmission* a = r->admission) {
                a->decided = true;
                a->decision = RateDecision{};
                a->decision.limit = a->limit;
                if (s.Text(4) == "t") {
                    a->decision.stale = true;
                    r->result = Error::Unavailable("The call's lookups were out of date.");
                    continue;
                }
                a->decision.allowed = s.Text(5) == "t";
                if (!a->decision.allowed) {
                    const Micros retry_at = s.IsNull(7) ? a->now : s.Int(7);
                    a->decision.retry_after = RetryAfterSeconds(retry_at, a->now);
                    r->result = Error{ErrorCode::kRateLimited, "Rate limit exceeded.", {}, {}};
                    continue;
                }
                a->decision.remaining = static_cast<int>(s.Int(6));
            }
            if (s.IsNull(1)) {
                r->result = Error::NotFound("Automation not found.");
            } else if (s.IsNull(0)) {
                r->result = QueueFull(s.Int(2));
            } else {
                r->result = Enqueued(r->run, s.Int(0), s.Text(1), s.Text(3) == "t");
            }
        }
        return Ok();
    });
    for (auto* r : batch) {
        if (!committed) {
            r->result = committed.error();
            // Nothing was decided (the statement committed nothing): the caller decides the call on its own.
            if (r->admission) AdmissionNotDecidedHere(*r->admission);
        }
        r->done = true;
    }
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
    // Workers look whenever a run is queued or ends, so most looks find nothing queued: a read says so without
    // a write transaction (and, on PostgreSQL, the claim lock). A run queued just after it
    // wakes the next look.
    auto any = db_->Read([](Connection& c) -> Result<bool> {
        Statement s(c, "SELECT 1 FROM runs WHERE status = 'queued' LIMIT 1");
        return s.Step();
    });
    if (any && !*any) return std::vector<ClaimedRun>{};
    if (db_->dialect() == sql::Dialect::kPostgres) {
        // One statement (migration 13): the claim, made by weft_claim_runs as below, returning the claimed runs
        // (kClaimedColumns) read after it.
        return db_->WriteStatement([&](Connection& c) -> Result<std::vector<ClaimedRun>> {
            Statement s(c, "SELECT * FROM weft_claim_runs(?, ?, ?, ?, ?, ?, ?)");
            s.Bind(owner).Bind(max).Bind(now).Bind(lease_until).Bind(std::max(4 * max, 64)).Bind(kClaimScanWindow);
            s.Bind(kClaimLockKey);
            std::vector<ClaimedRun> out;
            for (;;) {
                auto row = s.Step();
                if (!row) return std::move(row).error();
                if (!*row) return out;
                out.push_back(ReadClaimed(s));
            }
        });
    }
    // SQLite: one writer, so the counts below cannot change under the claim.
    return db_->Write([&](Connection& c) -> Result<std::vector<ClaimedRun>> {
        struct Candidate {
            std::int64_t id, account_id;
            int concurrency;
        };
        std::map<std::int64_t, std::int64_t> running;  // account -> running now (claimed ones included)
        std::vector<std::int64_t> chosen;
        // The oldest queued runs, a window at a time: one of a few times `max` rows is usually enough; saturated
        // accounts make the scan go on, up to kClaimScanWindow rows.
        std::int64_t after = 0;
        int scanned = 0;
        while (static_cast<int>(chosen.size()) < max && scanned < kClaimScanWindow) {
            const int window = std::min(kClaimScanWindow - scanned, std::max(4 * max, 64));
            auto candidates = sql::QueryAll<Candidate>(
                c,
                "SELECT r.id, r.account_id, p.concurrency FROM runs r JOIN accounts a ON a.id = r.account_id "
                "JOIN partners p ON p.app_id = a.partner_id WHERE r.status = 'queued' AND r.id > ? ORDER BY r.id "
                "LIMIT ?",
                [&](Statement& s) { s.Bind(after).Bind(window); },
                [](const Statement& s) {
                    return Candidate{s.Int(0), s.Int(1), static_cast<int>(s.Int(2))};
                });
            if (!candidates) return std::move(candidates).error();
            for (const auto& cand : *candidates) {
                if (static_cast<int>(chosen.size()) >= max) break;
                auto it = running.find(cand.account_id);
                if (it == running.end()) {
                    auto n = CountRunning(c, cand.account_id);
                    if (!n) return std::move(n).error();
                    it = running.emplace(cand.account_id, *n).first;
                }
                if (it->second >= cand.concurrency) continue;  // FIFO per account: its later runs wait too
                ++it->second;
                chosen.push_back(cand.id);
            }
            scanned += static_cast<int>(candidates->size());
            if (static_cast<int>(candidates->size()) < window) break;  // no more queued runs
            after = candidates->back().id;
        }
        return StartRuns(c, chosen, owner, now, lease_until);
    });
}

Result<std::optional<ClaimedRun>> SqlStore::ClaimRun(std::int64_t run_id, const std::string& owner, Micros now,
                                                     Micros lease_until) {
    return db_->Write([&](Connection& c) -> Result<std::optional<ClaimedRun>> {
        auto started = StartRuns(c, {run_id}, owner, now, lease_until);
        if (!started) return std::move(started).error();
        if (started->empty()) return std::optional<ClaimedRun>();
        return std::optional<ClaimedRun>(std::move(started->front()));
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

// Inserts `entries` after `last_seq`, up to 16 rows per statement (statements of 16, 8, 4, 2 and 1 rows).
Status AppendLogs(Connection& c, std::int64_t run_id, const std::vector<std::string>& entries, std::int64_t last_seq) {
    std::size_t i = 0;
    while (i < entries.size()) {
        std::size_t rows = 16;
        while (rows > entries.size() - i) rows >>= 1;
        std::string text = "INSERT INTO run_logs (run_id, seq, entry) VALUES (?, ?, ?)";
        for (std::size_t k = 1; k < rows; ++k) text += ", (?, ?, ?)";
        Statement s(c, text);
        for (std::size_t k = 0; k < rows; ++k, ++i) s.Bind(run_id).Bind(++last_seq).Bind(entries[i]);
        if (auto r = s.Run(); !r) return r;
    }
    return Ok();
}

}  // namespace

Status SqlStore::AppendRunLogs(std::int64_t run_id, const std::vector<std::string>& entries) {
    if (entries.empty()) return Ok();
    return db_->Write([&](Connection& c) -> Status {
        // Entries of a run executed again (after a lost worker) follow those of its earlier attempt.
        auto last = sql::Count(c, "SELECT COALESCE(MAX(seq), 0) FROM run_logs WHERE run_id = ?",
                               [&](Statement& s) { s.Bind(run_id); });
        if (!last) return std::move(last).error();
        return AppendLogs(c, run_id, entries, *last);
    });
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

namespace {

// The end of a run: the UPDATE, and what it returns (ReadRun's columns, then the last log entry's seq).
constexpr const char* kEndRun =
    "UPDATE runs SET status = ?, output = ?, error = ?, response = ?, stoptime = ?, lease_owner = NULL, "
    "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status IN ('running', 'must stop') AND "
    "(lease_owner = ? OR CAST(? AS TEXT) IS NULL)";
constexpr const char* kEndReturning =
    " RETURNING id, account_id, automation_id, guid, (SELECT b.guid FROM automations b WHERE b.id = "
    "runs.automation_id), status, context, flow, inputs, start_payload, output, error, attempt, call_depth, "
    "idempotency_key, schedule_starttime, starttime, stoptime, created_at, updated_at, response, "
    "(SELECT COALESCE(MAX(l.seq), 0) FROM run_logs l WHERE l.run_id = runs.id) AS last_seq";

// Appended to kEndReturning on PostgreSQL when the end is announced (RunOutcome::announce).
constexpr const char* kAnnounce = ", pg_notify('weft_run_finished', CAST(id AS TEXT))";

void BindEnd(Statement& s, std::int64_t run_id, const RunOutcome& o) {
    s.Bind(o.status).Bind(o.output).Bind(o.error).Bind(o.response).Bind(o.stoptime).Bind(o.stoptime).Bind(run_id);
    s.Bind(o.owner).Bind(o.owner);
}

// Whether the end of this run can be written from the claim alone (EndClaimedRun, EndClaimedRunsPg): the worker
// has the run as claimed, and it is not a flow whose end changes its automation (Setup, Delete).
bool EndsPlainly(const RunOutcome& o) { return o.claimed && o.claimed->flow != "setup" && o.claimed->flow != "delete"; }

Run EndedFromClaim(const RunOutcome& o);

// The end of a claimed run on SQLite: no RETURNING (SQLite buffers its rows in a temporary table) and nothing
// read back but the last log entry's seq; the ended run is the claimed one with the outcome.
Result<Run> EndClaimedRun(Connection& c, std::int64_t run_id, const RunOutcome& o) {
    Statement s(c, kEndRun);
    BindEnd(s, run_id, o);
    if (auto r = s.Run(); !r) return std::move(r).error();
    if (c.Changes() == 0) {
        // Deleted (with its account or automation), or no longer this worker's to end: record nothing.
        auto now = RunById(c, run_id);
        if (!now) return now;
        return Error::Conflict("The run is no longer running (now " + now->status + ").");
    }
    if (!o.logs.empty()) {
        // Entries of a run executed again (after a lost worker) follow those of its earlier attempt.
        Result<std::int64_t> last = o.last_seq
                                        ? Result<std::int64_t>(*o.last_seq)
                                        : sql::Count(c, "SELECT COALESCE(MAX(seq), 0) FROM run_logs WHERE run_id = ?",
                                                     [&](Statement& q) { q.Bind(run_id); });
        if (!last) return std::move(last).error();
        if (auto r = AppendLogs(c, run_id, o.logs, *last); !r) return std::move(r).error();
    }
    return EndedFromClaim(o);
}

// The ends of claimed runs on PostgreSQL, in one statement: each run is ended by its primary key when it is still
// running under that owner's lease (any lease for no owner) and not a Setup or Delete flow, its log entries are
// appended after the last one (its seq given, or looked up for a run whose log writes failed) and, when announced,
// sync callers on other processes are notified (delivered at commit). Returns the ids of the runs ended; nothing
// is read back (the ended run is the claimed one with the outcome). The `id = ANY` makes the update find the runs
// by primary key in any plan; a join with the input alone was planned, generically, as a scan of the running runs.
constexpr const char* kEndClaimedRunsPg =
    "WITH i AS (SELECT * FROM unnest(CAST(?1 AS BIGINT[]), CAST(?2 AS TEXT[]), CAST(?3 AS TEXT[]), "
    "CAST(?4 AS TEXT[]), CAST(?5 AS TEXT[]), CAST(?6 AS BIGINT[]), CAST(?7 AS TEXT[]), CAST(?8 AS BOOLEAN[]), "
    "CAST(?9 AS BIGINT[])) AS i(id, status, output, error, response, stoptime, owner, announce, last_seq)), "
    "ended AS (UPDATE runs r SET status = i.status, output = i.output, error = i.error, response = i.response, "
    "stoptime = i.stoptime, lease_owner = NULL, lease_expires_at = NULL, updated_at = i.stoptime FROM i "
    "WHERE r.id = ANY(CAST(?1 AS BIGINT[])) AND r.id = i.id AND (r.status = 'running' OR r.status = 'must stop') "
    "AND (r.lease_owner = i.owner OR i.owner IS NULL) AND r.flow <> 'setup' AND r.flow <> 'delete' "
    "RETURNING r.id, i.last_seq, CASE WHEN i.announce THEN pg_notify('weft_run_finished', CAST(r.id AS TEXT)) END), "
    "logged AS (INSERT INTO run_logs (run_id, seq, entry) SELECT e.id, COALESCE(e.last_seq, (SELECT "
    "COALESCE(MAX(l.seq), 0) FROM run_logs l WHERE l.run_id = e.id)) + x.k, x.entry FROM unnest(CAST(?10 AS "
    "BIGINT[]), CAST(?11 AS BIGINT[]), CAST(?12 AS TEXT[])) AS x(run_id, k, entry) JOIN ended e ON e.id = x.run_id) "
    "SELECT id, NOT EXISTS (SELECT 1 FROM runs q WHERE q.status = 'queued') FROM ended";

// The runs EndClaimedRunsPg ended, and whether it saw no run queued (in its snapshot, taken as it began).
struct EndedPg {
    std::set<std::int64_t> ids;
    bool none_queued = false;
};

Result<EndedPg> EndClaimedRunsPg(Connection& c, const std::vector<std::pair<std::int64_t, const RunOutcome*>>& ends) {
    std::vector<std::int64_t> ids, stoptimes, entry_runs, entry_numbers;
    std::vector<std::string> statuses, announce, entries;
    std::vector<std::optional<std::string>> outputs, errors, responses, owners;
    std::vector<std::optional<std::int64_t>> last_seqs;
    for (const auto& [run_id, outcome] : ends) {
        const RunOutcome& o = *outcome;
        ids.push_back(run_id);
        statuses.push_back(o.status);
        outputs.push_back(o.output);
        errors.push_back(o.error);
        responses.push_back(o.response);
        stoptimes.push_back(o.stoptime);
        owners.push_back(o.owner);
        announce.push_back(o.announce ? "t" : "f");
        last_seqs.push_back(o.last_seq);
        for (std::size_t k = 0; k < o.logs.size(); ++k) {
            entry_runs.push_back(run_id);
            entry_numbers.push_back(static_cast<std::int64_t>(k) + 1);
            entries.push_back(o.logs[k]);
        }
    }
    Statement s(c, kEndClaimedRunsPg);
    s.Bind(sql::IntArrayLiteral(ids))
        .Bind(sql::TextArrayLiteral(statuses))
        .Bind(sql::NullableTextArrayLiteral(outputs))
        .Bind(sql::NullableTextArrayLiteral(errors))
        .Bind(sql::NullableTextArrayLiteral(responses))
        .Bind(sql::IntArrayLiteral(stoptimes))
        .Bind(sql::NullableTextArrayLiteral(owners))
        .Bind(sql::TextArrayLiteral(announce))
        .Bind(sql::NullableIntArrayLiteral(last_seqs))
        .Bind(sql::IntArrayLiteral(entry_runs))
        .Bind(sql::IntArrayLiteral(entry_numbers))
        .Bind(sql::TextArrayLiteral(entries));
    EndedPg got;
    for (;;) {
        auto row = s.Step();
        if (!row) return std::move(row).error();
        if (!*row) return got;
        got.ids.insert(s.Int(0));
        got.none_queued = s.Text(1) == "t";
    }
}

Run EndedFromClaim(const RunOutcome& o) {
    Run run = *o.claimed;
    run.status = o.status;
    run.output = o.output;
    run.error = o.error;
    run.response = o.response;
    run.stoptime = o.stoptime;
    run.updated_at = o.stoptime;
    return run;
}

}  // namespace

void SqlStore::EndBatch(std::vector<PendingEnd>& batch) {
    std::vector<std::pair<std::int64_t, const RunOutcome*>> ends;
    ends.reserve(batch.size());
    for (const PendingEnd& e : batch) ends.emplace_back(e.run_id, &e.outcome);
    auto ended = db_->WriteAutocommit([&](Connection& c) { return EndClaimedRunsPg(c, ends); });
    for (PendingEnd& e : batch) {
        if (!ended) {
            e.done(FinishRun(e.run_id, e.outcome), false);  // the statement wrote nothing: each end on its own
        } else if (ended->ids.contains(e.run_id)) {
            e.done(EndedFromClaim(e.outcome), ended->none_queued);
        } else {
            e.done(EndInTransaction(e.run_id, e.outcome), false);  // no longer this worker's to end: says why
        }
    }
}

void SqlStore::FinishRunAsync(std::int64_t run_id, RunOutcome o, RunEndedFn done) {
    if (!EndsPlainly(o)) return done(FinishRun(run_id, o), false);
    if (db_->dialect() == sql::Dialect::kPostgres) {
        // Ends that arrive while a batch is being written go into the next one, without holding their threads.
        // (The outcome's claimed run lives as long as `done`.)
        ends_.Add(PendingEnd{run_id, std::move(o), std::move(done)},
                  [this](std::vector<PendingEnd>& batch) { EndBatch(batch); });
        return;
    }
    // The end joins the next group commit without holding this thread; the outcome lives until it is written.
    auto outcome = std::make_shared<RunOutcome>(std::move(o));
    db_->WriteAsync<Result<Run>>([run_id, outcome](Connection& c) { return EndClaimedRun(c, run_id, *outcome); },
                                 [done = std::move(done)](Result<Run> r) { done(std::move(r), false); });
}

Result<Run> SqlStore::FinishRun(std::int64_t run_id, const RunOutcome& o) {
    const bool pg = db_->dialect() == sql::Dialect::kPostgres;
    if (EndsPlainly(o) && !pg) return db_->Write([&](Connection& c) { return EndClaimedRun(c, run_id, o); });
    if (EndsPlainly(o)) {
        // One statement in one round trip (see EndClaimedRunsPg); a run no longer this worker's to end takes the
        // transaction below, which says why.
        auto ended = db_->WriteAutocommit([&](Connection& c) { return EndClaimedRunsPg(c, {{run_id, &o}}); });
        if (!ended) return std::move(ended).error();
        if (ended->ids.contains(run_id)) return EndedFromClaim(o);
    } else if (pg && !o.claimed) {
        // One statement in one round trip: the end, the log entries and the wake-up of sync callers waiting on
        // other processes (delivered at commit). Setup and Delete flows, and a run no longer running, take the
        // transaction below (no row here).
        auto ended = db_->WriteAutocommit([&](Connection& c) -> Result<std::optional<Run>> {
            Statement s(c, std::string("WITH ended AS (") + kEndRun + " AND flow NOT IN ('setup', 'delete')" +
                               kEndReturning + (o.announce ? kAnnounce : "") + "), " +
                               "logged AS (INSERT INTO run_logs (run_id, seq, entry) SELECT e.id, e.last_seq + l.n, "
                               "l.entry FROM ended e CROSS JOIN unnest(CAST(? AS TEXT[])) WITH ORDINALITY AS "
                               "l(entry, n)) SELECT * FROM ended");
            BindEnd(s, run_id, o);
            s.Bind(sql::TextArrayLiteral(o.logs));
            auto row = s.Step();
            if (!row) return std::move(row).error();
            if (!*row) return std::optional<Run>();
            return std::optional<Run>(ReadRun(s));
        });
        if (!ended) return std::move(ended).error();
        if (*ended) return std::move(**ended);
    }
    return EndInTransaction(run_id, o);
}

Result<Run> SqlStore::EndInTransaction(std::int64_t run_id, const RunOutcome& o) {
    // (The end of a Setup or Delete flow changes its automation.)
    return ConfigWrite([&](Connection& c) -> Result<Run> {
        // On PostgreSQL the same statement wakes sync callers waiting on other processes (delivered at commit).
        const bool pg = c.dialect() == sql::Dialect::kPostgres;
        Statement s(c, std::string(kEndRun) + kEndReturning + (pg && o.announce ? kAnnounce : ""));
        BindEnd(s, run_id, o);
        auto row = s.Step();
        if (!row) return std::move(row).error();
        if (!*row) {
            // Deleted (with its account or automation), or no longer this worker's to end (its lease lapsed and
            // the reaper requeued it): record nothing.
            auto now = RunById(c, run_id);
            if (!now) return now;
            return Error::Conflict("The run is no longer running (now " + now->status + ").");
        }
        Run ended = ReadRun(s);
        const std::int64_t last_seq = s.Int(21);
        // Entries of a run executed again (after a lost worker) follow those of its earlier attempt.
        if (auto r = AppendLogs(c, run_id, o.logs, last_seq); !r) return std::move(r).error();
        const bool succeeded = o.status == kRunStatusFinished || o.status == kRunStatusFinishedWithWarnings;
        if (succeeded && ended.flow == "setup") {
            Statement setup(c, "UPDATE automations SET setup_complete = 1 WHERE id = ?");
            setup.Bind(ended.automation_id);
            if (auto r = setup.Run(); !r) return std::move(r).error();
        } else if (succeeded && ended.flow == "delete") {
            // The Delete flow did its work: the automation goes now, in the transaction that records the end.
            Statement remove(c, "DELETE FROM automations WHERE id = ?");
            remove.Bind(ended.automation_id);
            if (auto r = remove.Run(); !r) return std::move(r).error();
        }
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
                "WHERE a.partner_id = ? AND r.account_id = ? AND (r.status = 'queued' OR r.status = 'running' OR "
                "r.status = 'must stop') "
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
