// SqliteStore: automations of an account.
#include "core/ids.h"
#include "store/sqlite/query.h"
#include "store/sqlite/sqlite_store.h"

namespace weft {

using sqlite::Connection;
using sqlite::Statement;

namespace {

constexpr const char* kColumns =
    "SELECT b.id, b.account_id, b.guid, b.name, b.short_description, b.description, b.icon, b.icon2, b.icon3, "
    "b.state, b.run_mode, b.schedule_start_at, b.schedule_stop_at, b.schedule_interval, b.schedule_timezone, "
    "b.definition, b.template_guid, b.template_version, b.persisted_inputs, b.execution_token, b.setup_complete, "
    "b.last_run_at, b.created_at, b.updated_at FROM automations b JOIN accounts a ON a.id = b.account_id ";

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
    return b;
}

// Binds every writable column in the order of the INSERT/UPDATE statements below.
void BindFields(Statement& s, const Automation& b) {
    s.Bind(b.name).Bind(b.short_description).Bind(b.description).Bind(b.icon).Bind(b.icon2).Bind(b.icon3);
    s.Bind(b.state).Bind(b.run_mode).Bind(b.schedule_start_at).Bind(b.schedule_stop_at).Bind(b.schedule_interval);
    s.Bind(b.schedule_timezone).Bind(b.definition).Bind(b.template_guid).Bind(b.template_version);
    s.Bind(b.persisted_inputs).Bind(b.execution_token).Bind(b.setup_complete).Bind(b.last_run_at);
    s.Bind(b.updated_at);
}

Result<Automation> GetById(Connection& c, PartnerId partner, std::int64_t account_id, std::int64_t id) {
    return sqlite::QueryOne<Automation>(
        c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? AND b.id = ?",
        [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(id); }, ReadAutomation, "Automation");
}

constexpr const char* kDuplicateName = "An automation with this name already exists in the account.";

}  // namespace

Result<Automation> SqliteStore::CreateAutomation(PartnerId partner, const Automation& b) {
    return db_->Write([&](Connection& c) -> Result<Automation> {
        auto owner = sqlite::Count(c, "SELECT COUNT(*) FROM accounts WHERE partner_id = ? AND id = ?",
                                   [&](Statement& s) { s.Bind(partner).Bind(b.account_id); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Account not found.");
        Statement s(c,
                    "INSERT INTO automations (name, short_description, description, icon, icon2, icon3, state, "
                    "run_mode, schedule_start_at, schedule_stop_at, schedule_interval, schedule_timezone, definition, "
                    "template_guid, template_version, persisted_inputs, execution_token, setup_complete, last_run_at, "
                    "updated_at, account_id, guid, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        BindFields(s, b);
        s.Bind(b.account_id).Bind(b.guid).Bind(b.created_at);
        if (auto r = s.Run(); !r) return sqlite::ConflictOr(std::move(r).error(), kDuplicateName);
        Automation out = b;
        out.id = sqlite3_last_insert_rowid(c.handle());
        return out;
    });
}

Result<Automation> SqliteStore::FindAutomation(PartnerId partner, std::int64_t account_id, std::string_view key) {
    return db_->Read([&](Connection& c) -> Result<Automation> {
        if (LooksLikeGuid(key)) {
            auto by_guid = sqlite::QueryOne<Automation>(
                c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? AND b.guid = ?",
                [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(key); }, ReadAutomation, "Automation");
            if (by_guid || by_guid.error().code != ErrorCode::kNotFound) return by_guid;
        }
        return sqlite::QueryOne<Automation>(
            c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? AND b.name = ?",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(key); }, ReadAutomation, "Automation");
    });
}

Result<Page<Automation>> SqliteStore::ListAutomations(PartnerId partner, std::int64_t account_id,
                                                      const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<Automation>> {
        auto bind = [&](Statement& s) { s.Bind(partner).Bind(account_id); };
        auto total = sqlite::Count(c,
                                   "SELECT COUNT(*) FROM automations b JOIN accounts a ON a.id = b.account_id "
                                   "WHERE a.partner_id = ? AND b.account_id = ?",
                                   bind);
        if (!total) return std::move(total).error();
        auto items = sqlite::QueryAll<Automation>(
            c, std::string(kColumns) + "WHERE a.partner_id = ? AND b.account_id = ? ORDER BY b.id LIMIT ? OFFSET ?",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadAutomation);
        if (!items) return std::move(items).error();
        return Page<Automation>{std::move(*items), *total};
    });
}

Result<Automation> SqliteStore::SaveAutomation(PartnerId partner, const Automation& b) {
    return db_->Write([&](Connection& c) -> Result<Automation> {
        Statement s(c,
                    "UPDATE automations SET name = ?, short_description = ?, description = ?, icon = ?, icon2 = ?, "
                    "icon3 = ?, state = ?, run_mode = ?, schedule_start_at = ?, schedule_stop_at = ?, "
                    "schedule_interval = ?, schedule_timezone = ?, definition = ?, template_guid = ?, "
                    "template_version = ?, persisted_inputs = ?, execution_token = ?, setup_complete = ?, "
                    "last_run_at = ?, updated_at = ? WHERE id = ? AND account_id = ? AND account_id IN "
                    "(SELECT id FROM accounts WHERE partner_id = ?)");
        BindFields(s, b);
        s.Bind(b.id).Bind(b.account_id).Bind(partner);
        if (auto r = s.Run(); !r) return sqlite::ConflictOr(std::move(r).error(), kDuplicateName);
        if (sqlite3_changes(c.handle()) == 0) return Error::NotFound("Automation not found.");
        return GetById(c, partner, b.account_id, b.id);
    });
}

Result<std::vector<AccountAutomation>> SqliteStore::FindAutomationsByKey(std::string_view key) {
    // kColumns with the account's columns appended (24..32).
    std::string select(kColumns);
    select.replace(select.find(" FROM automations"), 0,
                   ", a.id, a.partner_id, a.guid, a.externalid, a.name, a.expired, a.expired_at, a.created_at, "
                   "a.updated_at");
    auto read = [](const Statement& s) {
        AccountAutomation out;
        out.automation = ReadAutomation(s);
        Account& a = out.account;
        a.id = s.Int(24);
        a.partner_id = s.Int(25);
        a.guid = s.Text(26);
        a.externalid = s.Text(27);
        a.name = s.Text(28);
        a.expired = s.Int(29) != 0;
        a.expired_at = s.OptInt(30);
        a.created_at = s.Int(31);
        a.updated_at = s.Int(32);
        return out;
    };
    return db_->Read([&](Connection& c) -> Result<std::vector<AccountAutomation>> {
        if (LooksLikeGuid(key)) {
            auto by_guid = sqlite::QueryAll<AccountAutomation>(
                c, select + "WHERE b.guid = ?", [&](Statement& s) { s.Bind(key); }, read);
            if (!by_guid || !by_guid->empty()) return by_guid;
        }
        // Names are unique per account only; the caller's token picks one. Bounded: tokens are compared to each.
        return sqlite::QueryAll<AccountAutomation>(
            c, select + "WHERE b.name = ? ORDER BY b.id LIMIT 1000", [&](Statement& s) { s.Bind(key); }, read);
    });
}

Status SqliteStore::DeleteAutomation(PartnerId partner, std::int64_t account_id, std::int64_t automation_id) {
    return db_->Write([&](Connection& c) -> Status {
        Statement s(c,
                    "DELETE FROM automations WHERE id = ? AND account_id = ? AND account_id IN "
                    "(SELECT id FROM accounts WHERE partner_id = ?)");
        s.Bind(automation_id).Bind(account_id).Bind(partner);
        if (auto r = s.Run(); !r) return r;
        if (sqlite3_changes(c.handle()) == 0) return Error::NotFound("Automation not found.");
        return Ok();
    });
}

}  // namespace weft
