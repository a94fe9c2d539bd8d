// SqlStore: automations of an account.
#include "core/ids.h"
#include "store/sql/automation_rows.h"
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

namespace {

constexpr const char* kColumns =
    "SELECT b.id, b.account_id, b.guid, b.name, b.short_description, b.description, b.icon, b.icon2, b.icon3, "
    "b.state, b.run_mode, b.schedule_start_at, b.schedule_stop_at, b.schedule_interval, b.schedule_timezone, "
    "b.definition, b.template_guid, b.template_version, b.persisted_inputs, b.execution_token, b.setup_complete, "
    "(SELECT MAX(lr.starttime) FROM runs lr WHERE lr.automation_id = b.id AND lr.stoptime IS NOT NULL), "
    "b.created_at, b.updated_at, b.next_fire_at, b.isbundle, b.bundle_id FROM automations b JOIN "
    "accounts a ON a.id = b.account_id ";

Automation ReadAutomation(const Statement& s) {
    Automation b;
    b.id = s.Int(0);
    b.account_id = s.Int(1);
    b.guid = s.Text(2);
    b.name = s.Text(3);
    b.short_description = s.Text(4);
    b.description = s.Text(5);
    b.icon = s.OptText(6);
    b.icon2 = s.OptText(7);
    b.icon3 = s.OptText(8);
    b.state = s.Text(9);
    b.run_mode = s.Text(10);
    b.schedule_start_at = s.OptInt(11);
    b.schedule_stop_at = s.OptInt(12);
    b.schedule_interval = s.Int(13);
    b.schedule_timezone = s.Text(14);
    b.definition = s.Text(15);
    b.template_guid = s.OptText(16);
    b.template_version = s.OptInt(17);
    b.persisted_inputs = s.Text(18);
    b.execution_token = s.Text(19);
    b.setup_complete = s.Int(20) != 0;
    b.last_run_at = s.OptInt(21);
    b.created_at = s.Int(22);
    b.updated_at = s.Int(23);
    b.next_fire_at = s.OptInt(24);
    b.isbundle = s.Int(25) != 0;
    b.bundle_id = s.OptInt(26);
    return b;
}

// Binds every writable column in the order of the INSERT/UPDATE statements below.
void BindFields(Statement& s, const Automation& b) {
    s.Bind(b.name).Bind(b.short_description).Bind(b.description).Bind(b.icon).Bind(b.icon2).Bind(b.icon3);
    s.Bind(b.state).Bind(b.run_mode).Bind(b.schedule_start_at).Bind(b.schedule_stop_at).Bind(b.schedule_interval);
    s.Bind(b.schedule_timezone).Bind(b.definition).Bind(b.template_guid).Bind(b.template_version);
    s.Bind(b.persisted_inputs).Bind(b.execution_token).Bind(b.setup_complete);
    s.Bind(b.updated_at).Bind(b.next_fire_at).Bind(b.isbundle).Bind(b.bundle_id);
}

Result<Automation> GetById(Connection& c, PartnerId partner, std::int64_t account_id, std::int64_t id) {
    return sql::QueryOne<Automation>(
        c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? AND b.id = ?",
        [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(id); }, ReadAutomation, "Automation");
}

constexpr const char* kDuplicateName = "An automation with this name already exists in the account.";

}  // namespace

namespace sql {

std::string AutomationSelect() { return kColumns; }
Automation ReadAutomationRow(const Statement& s) { return ReadAutomation(s); }

Result<std::int64_t> InsertAutomation(Connection& c, const Automation& b) {
    Statement s(c,
                "INSERT INTO automations (name, short_description, description, icon, icon2, icon3, state, "
                "run_mode, schedule_start_at, schedule_stop_at, schedule_interval, schedule_timezone, definition, "
                "template_guid, template_version, persisted_inputs, execution_token, setup_complete, "
                "updated_at, next_fire_at, isbundle, bundle_id, account_id, guid, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    BindFields(s, b);
    s.Bind(b.account_id).Bind(b.guid).Bind(b.created_at);
    if (auto r = s.Run(); !r) return sql::ConflictOr(std::move(r).error(), kDuplicateName);
    return c.LastInsertId();
}

}  // namespace sql

Result<Automation> SqlStore::CreateAutomation(PartnerId partner, const Automation& b) {
    return ConfigWrite([&](Connection& c) -> Result<Automation> {
        auto owner = sql::Count(c, "SELECT COUNT(*) FROM accounts WHERE partner_id = ? AND id = ?",
                                [&](Statement& s) { s.Bind(partner).Bind(b.account_id); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Account not found.");
        auto id = sql::InsertAutomation(c, b);
        if (!id) return std::move(id).error();
        Automation out = b;
        out.id = *id;
        return out;
    });
}

Result<Automation> SqlStore::FindAutomation(PartnerId partner, std::int64_t account_id, std::string_view key) {
    return db_->Read([&](Connection& c) {
        return sql::QueryByGuidOr<Automation>(
            c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? AND ", "b.guid", "b.name", key,
            [&](Statement& s) { s.Bind(partner).Bind(account_id); }, ReadAutomation, "Automation");
    });
}

Result<Automation> SqlStore::FindAutomationToRun(PartnerId partner, std::int64_t account_id, std::string_view key,
                                                 std::uint64_t lookup_token) {
    std::string memo_key = std::to_string(partner) + ":" + std::to_string(account_id) + ":";
    memo_key.append(key);
    // The same call's credentials lookup checked the epoch after the call began: while nothing emptied the cache
    // since, that check holds for this lookup too.
    const std::uint64_t generation =
        lookup_token != 0 && lookups_.Unchanged(lookup_token) ? lookup_token : lookups_.Begin();
    if (auto hit = lookups_.FindAutomation(memo_key)) return std::move(*hit);
    auto found = FindAutomation(partner, account_id, key);
    if (found) lookups_.PutAutomation(memo_key, *found, generation);
    return found;
}

Result<Page<Automation>> SqlStore::ListAutomations(PartnerId partner, std::int64_t account_id,
                                                   const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<Automation>> {
        auto bind = [&](Statement& s) { s.Bind(partner).Bind(account_id); };
        auto total = sql::Count(c,
                                "SELECT COUNT(*) FROM automations b JOIN accounts a ON a.id = b.account_id "
                                "WHERE a.partner_id = ? AND b.account_id = ?",
                                bind);
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<Automation>(
            c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? ORDER BY b.id LIMIT ? OFFSET ?",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadAutomation);
        if (!items) return std::move(items).error();
        return Page<Automation>{std::move(*items), *total};
    });
}

Result<Automation> SqlStore::SaveAutomation(PartnerId partner, const Automation& b) {
    return ConfigWrite([&](Connection& c) -> Result<Automation> {
        Statement s(c,
                    "UPDATE automations SET name = ?, short_description = ?, description = ?, icon = ?, icon2 = ?, "
                    "icon3 = ?, state = ?, run_mode = ?, schedule_start_at = ?, schedule_stop_at = ?, "
                    "schedule_interval = ?, schedule_timezone = ?, definition = ?, template_guid = ?, "
                    "template_version = ?, persisted_inputs = ?, execution_token = ?, setup_complete = ?, "
                    "updated_at = ?, next_fire_at = ?, isbundle = ?, bundle_id = ? WHERE id = ? AND "
                    "account_id = ? AND account_id IN "
                    "(SELECT id FROM accounts WHERE partner_id = ?)");
        BindFields(s, b);
        s.Bind(b.id).Bind(b.account_id).Bind(partner);
        if (auto r = s.Run(); !r) return sql::ConflictOr(std::move(r).error(), kDuplicateName);
        if (c.Changes() == 0) return Error::NotFound("Automation not found.");
        return GetById(c, partner, b.account_id, b.id);
    });
}

namespace {

// kColumns with the account's columns appended (27..35).
std::string WithAccountColumns() {
    std::string select(kColumns);
    select.replace(select.find(" FROM automations"), 0,
                   ", a.id, a.partner_id, a.guid, a.externalid, a.name, a.expired, a.expired_at, a.created_at, "
                   "a.updated_at");
    return select;
}

AccountAutomation ReadWithAccount(const Statement& s) {
    AccountAutomation out;
    out.automation = ReadAutomation(s);
    Account& a = out.account;
    a.id = s.Int(27);
    a.partner_id = s.Int(28);
    a.guid = s.Text(29);
    a.externalid = s.Text(30);
    a.name = s.Text(31);
    a.expired = s.Int(32) != 0;
    a.expired_at = s.OptInt(33);
    a.created_at = s.Int(34);
    a.updated_at = s.Int(35);
    return out;
}

}  // namespace

Result<std::vector<AccountAutomation>> SqlStore::FindAutomationsByKey(std::string_view key) {
    const std::string select = WithAccountColumns();
    return db_->Read([&](Connection& c) -> Result<std::vector<AccountAutomation>> {
        if (LooksLikeGuid(key)) {
            auto by_guid = sql::QueryAll<AccountAutomation>(
                c, select + "WHERE b.guid = ?", [&](Statement& s) { s.Bind(key); }, ReadWithAccount);
            if (!by_guid || !by_guid->empty()) return by_guid;
        }
        // Names are unique per account only; the caller's token picks one. Bounded: tokens are compared to each.
        return sql::QueryAll<AccountAutomation>(
            c, select + "WHERE b.name = ? ORDER BY b.id LIMIT 1000", [&](Statement& s) { s.Bind(key); },
            ReadWithAccount);
    });
}

Result<std::vector<AccountAutomation>> SqlStore::DueSchedules(Micros now, int limit) {
    const std::string select = WithAccountColumns();
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<AccountAutomation>(
            c,
            select +
                "WHERE b.next_fire_at <= ? AND b.run_mode = 'scheduled' AND b.state = 'available' "
                "AND a.expired = 0 ORDER BY b.next_fire_at LIMIT ?",
            [&](Statement& s) { s.Bind(now).Bind(limit); }, ReadWithAccount);
    });
}

Result<FireResult> SqlStore::FireSchedule(std::int64_t automation_id, Micros tick, std::optional<Micros> next,
                                          const std::optional<Run>& run, int queue_cap) {
    return db_->Write([&](Connection& c) -> Result<FireResult> {
        Statement advance(c, "UPDATE automations SET next_fire_at = ? WHERE id = ? AND next_fire_at = ?");
        advance.Bind(next).Bind(automation_id).Bind(tick);
        if (auto r = advance.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return FireResult{FireOutcome::kStale, std::nullopt};
        if (!run) return FireResult{FireOutcome::kAdvanced, std::nullopt};
        auto overlap = sql::Count(c,
                                  "SELECT COUNT(*) FROM runs WHERE automation_id = ? AND context = 'scheduled' AND "
                                  "status IN ('queued', 'running', 'must stop')",
                                  [&](Statement& s) { s.Bind(automation_id); });
        if (!overlap) return std::move(overlap).error();
        if (*overlap > 0) return FireResult{FireOutcome::kSkippedOverlap, std::nullopt};
        if (c.dialect() == sql::Dialect::kPostgres) {
            // The queue cap is checked under the account's queue lock, as in EnqueueRun.
            Statement lock(c, "SELECT weft_lock_accounts(CAST(ARRAY[?] AS BIGINT[]), 1)");
            lock.Bind(run->account_id);
            if (auto r = lock.Run(); !r) return std::move(r).error();
        }
        auto queued = sql::Count(c, "SELECT COUNT(*) FROM runs WHERE account_id = ? AND status = 'queued'",
                                 [&](Statement& s) { s.Bind(run->account_id); });
        if (!queued) return std::move(queued).error();
        if (*queued >= queue_cap) return FireResult{FireOutcome::kQueueFull, std::nullopt};
        Statement ins(c,
                      "INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, attempt, "
                      "call_depth, schedule_starttime, created_at, updated_at) "
                      "VALUES (?, ?, ?, 'queued', 'scheduled', 'start', ?, 1, 0, ?, ?, ?)");
        ins.Bind(run->account_id).Bind(automation_id).Bind(run->guid).Bind(run->inputs).Bind(tick);
        ins.Bind(run->created_at).Bind(run->updated_at);
        if (auto r = ins.Run(); !r) return std::move(r).error();
        return FireResult{FireOutcome::kFired, Run{}};
    });
}

Status SqlStore::DeleteAutomation(PartnerId partner, std::int64_t account_id, std::int64_t automation_id) {
    return ConfigWrite([&](Connection& c) -> Status {
        Statement s(c,
                    "DELETE FROM automations WHERE id = ? AND account_id = ? AND account_id IN "
                    "(SELECT id FROM accounts WHERE partner_id = ?)");
        s.Bind(automation_id).Bind(account_id).Bind(partner);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("Automation not found.");
        return Ok();
    });
}

}  // namespace weft
