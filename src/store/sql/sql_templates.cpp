// SqliteStore: templates, their versions and bundle members; automations installed from them.
#include "store/sql/automation_rows.h"
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

namespace {

// Every template column plus the definition of the version joined as `v`.
constexpr const char* kColumns =
    "SELECT t.id, t.partner_id, t.guid, t.name, t.short_description, t.description, t.icon, t.icon2, t.icon3, "
    "t.status, t.isbundle, t.groups_json, t.schedule_interval, t.schedule_timezone, v.version, v.definition, "
    "t.created_at, t.updated_at FROM templates t JOIN template_versions v ON v.template_id = t.id ";

Template ReadTemplate(const Statement& s) {
    Template t;
    t.id = s.Int(0);
    t.partner_id = s.Int(1);
    t.guid = s.Text(2);
    t.name = s.Text(3);
    t.short_description = s.Text(4);
    t.description = s.Text(5);
    t.icon = s.OptText(6);
    t.icon2 = s.OptText(7);
    t.icon3 = s.OptText(8);
    t.status = s.Text(9);
    t.isbundle = s.Int(10) != 0;
    t.groups = s.Text(11);
    t.schedule_interval = s.Int(12);
    t.schedule_timezone = s.Text(13);
    t.version = s.Int(14);
    t.definition = s.Text(15);
    t.created_at = s.Int(16);
    t.updated_at = s.Int(17);
    return t;
}

Status LoadMemberGuids(Connection& c, Template& t) {
    auto guids = sql::QueryAll<std::string>(
        c,
        "SELECT t.guid FROM template_bundle_members m JOIN templates t ON t.id = m.member_id "
        "WHERE m.bundle_id = ? ORDER BY m.ordinal",
        [&](Statement& s) { s.Bind(t.id); }, [](const Statement& s) { return s.Text(0); });
    if (!guids) return std::move(guids).error();
    t.sub_template_guids = std::move(*guids);
    return Ok();
}

Result<Template> GetLatest(Connection& c, PartnerId partner, std::int64_t id) {
    auto t = sql::QueryOne<Template>(
        c, std::string(kColumns) + "AND v.version = t.version WHERE t.partner_id = ? AND t.id = ?",
        [&](Statement& s) { s.Bind(partner).Bind(id); }, ReadTemplate, "Template");
    if (!t) return t;
    if (auto r = LoadMemberGuids(c, *t); !r) return std::move(r).error();
    return t;
}

// Replaces the bundle's members with the given guids, which must name this partner's non-bundle templates.
Status WriteMembers(Connection& c, const Template& t) {
    Statement clear(c, "DELETE FROM template_bundle_members WHERE bundle_id = ?");
    clear.Bind(t.id);
    if (auto r = clear.Run(); !r) return r;
    std::int64_t ordinal = 0;
    for (const auto& guid : t.sub_template_guids) {
        Statement find(c, "SELECT id FROM templates WHERE partner_id = ? AND guid = ? AND isbundle = 0");
        find.Bind(t.partner_id).Bind(guid);
        auto row = find.Step();
        if (!row) return std::move(row).error();
        if (!*row || find.Int(0) == t.id) {
            return Error::Validation({{"sub_blends",
                                       {"\"" + guid +
                                        "\" is not one of your templates (bundles "
                                        "cannot contain bundles)"}}});
        }
        const std::int64_t member_id = find.Int(0);
        Statement ins(c,
                      "INSERT INTO template_bundle_members (bundle_id, member_id, ordinal) VALUES (?, ?, ?) "
                      "ON CONFLICT (bundle_id, member_id) DO NOTHING");
        ins.Bind(t.id).Bind(member_id).Bind(++ordinal);
        if (auto r = ins.Run(); !r) return r;
    }
    return Ok();
}

Status InsertVersion(Connection& c, const Template& t) {
    Statement s(c, "INSERT INTO template_versions (template_id, version, definition, created_at) VALUES (?, ?, ?, ?)");
    s.Bind(t.id).Bind(t.version).Bind(t.definition).Bind(t.updated_at);
    return s.Run();
}

// `name`, else `name (2)`, `name (3)`, ...: the first one free in the account.
Result<std::string> FreeName(Connection& c, std::int64_t account_id, const std::string& name) {
    for (int n = 1; n <= 1000; ++n) {
        std::string candidate = n == 1 ? name : name + " (" + std::to_string(n) + ")";
        auto taken = sql::Count(c, "SELECT COUNT(*) FROM automations WHERE account_id = ? AND name = ?",
                                [&](Statement& s) { s.Bind(account_id).Bind(candidate); });
        if (!taken) return std::move(taken).error();
        if (*taken == 0) return candidate;
    }
    return Error::Conflict("Too many automations with this name in the account.");
}

}  // namespace

Result<Template> SqlStore::CreateTemplate(const Template& tpl) {
    return db_->Write([&](Connection& c) -> Result<Template> {
        Statement s(c,
                    "INSERT INTO templates (partner_id, guid, name, short_description, description, icon, icon2, "
                    "icon3, status, isbundle, groups_json, schedule_interval, schedule_timezone, version, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        s.Bind(tpl.partner_id).Bind(tpl.guid).Bind(tpl.name).Bind(tpl.short_description).Bind(tpl.description);
        s.Bind(tpl.icon).Bind(tpl.icon2).Bind(tpl.icon3).Bind(tpl.status).Bind(tpl.isbundle).Bind(tpl.groups);
        s.Bind(tpl.schedule_interval).Bind(tpl.schedule_timezone).Bind(tpl.version).Bind(tpl.created_at);
        s.Bind(tpl.updated_at);
        if (auto r = s.Run(); !r) return std::move(r).error();
        Template out = tpl;
        out.id = c.LastInsertId();
        if (auto r = InsertVersion(c, out); !r) return std::move(r).error();
        if (auto r = WriteMembers(c, out); !r) return std::move(r).error();
        return GetLatest(c, out.partner_id, out.id);
    });
}

Result<Template> SqlStore::FindTemplate(PartnerId partner, std::string_view guid, std::optional<std::int64_t> version) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Template> {
        const std::string which = version ? "AND v.version = ? " : "AND v.version = t.version ";
        auto t = sql::QueryOne<Template>(
            c, std::string(kColumns) + which + "WHERE t.partner_id = ? AND t.guid = ?",
            [&](Statement& s) {
                if (version) s.Bind(*version);
                s.Bind(partner).Bind(guid);
            },
            ReadTemplate, version ? "Template version" : "Template");
        if (!t) return t;
        if (auto r = LoadMemberGuids(c, *t); !r) return std::move(r).error();
        return t;
    });
}

Result<Page<Template>> SqlStore::ListTemplates(PartnerId partner, const std::optional<std::string>& status,
                                               const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<Template>> {
        const std::string where = status ? "WHERE t.partner_id = ? AND t.status = ? " : "WHERE t.partner_id = ? ";
        auto bind = [&](Statement& s) {
            s.Bind(partner);
            if (status) s.Bind(*status);
        };
        auto total = sql::Count(c, "SELECT COUNT(*) FROM templates t " + where, bind);
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<Template>(
            c, std::string(kColumns) + "AND v.version = t.version " + where + "ORDER BY t.id LIMIT ? OFFSET ?",
            [&](Statement& s) {
                bind(s);
                s.Bind(page.limit).Bind(page.offset);
            },
            ReadTemplate);
        if (!items) return std::move(items).error();
        for (auto& t : *items) {
            if (auto r = LoadMemberGuids(c, t); !r) return std::move(r).error();
        }
        return Page<Template>{std::move(*items), *total};
    });
}

Result<Template> SqlStore::SaveTemplate(PartnerId partner, const Template& tpl, bool new_version) {
    return db_->Write([&](Connection& c) -> Result<Template> {
        Statement s(c,
                    "UPDATE templates SET name = ?, short_description = ?, description = ?, icon = ?, icon2 = ?, "
                    "icon3 = ?, status = ?, isbundle = ?, groups_json = ?, schedule_interval = ?, "
                    "schedule_timezone = ?, version = ?, updated_at = ? WHERE partner_id = ? AND id = ?");
        s.Bind(tpl.name).Bind(tpl.short_description).Bind(tpl.description).Bind(tpl.icon).Bind(tpl.icon2);
        s.Bind(tpl.icon3).Bind(tpl.status).Bind(tpl.isbundle).Bind(tpl.groups).Bind(tpl.schedule_interval);
        s.Bind(tpl.schedule_timezone).Bind(tpl.version).Bind(tpl.updated_at).Bind(partner).Bind(tpl.id);
        if (auto r = s.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return Error::NotFound("Template not found.");
        if (new_version) {
            if (auto r = InsertVersion(c, tpl); !r) return std::move(r).error();
        }
        Template scoped = tpl;
        scoped.partner_id = partner;
        if (auto r = WriteMembers(c, scoped); !r) return std::move(r).error();
        return GetLatest(c, partner, tpl.id);
    });
}

Status SqlStore::DeleteTemplate(PartnerId partner, std::int64_t template_id) {
    return db_->Write([&](Connection& c) -> Status {
        Statement s(c, "DELETE FROM templates WHERE partner_id = ? AND id = ?");
        s.Bind(partner).Bind(template_id);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("Template not found.");
        return Ok();
    });
}

Result<std::vector<Template>> SqlStore::ListTemplateMembers(PartnerId partner, std::int64_t template_id) {
    return db_->ReadSnapshot([&](Connection& c) {
        return sql::QueryAll<Template>(
            c,
            std::string(kColumns) +
                "AND v.version = t.version JOIN template_bundle_members m ON m.member_id = t.id "
                "WHERE t.partner_id = ? AND m.bundle_id = ? ORDER BY m.ordinal",
            [&](Statement& s) { s.Bind(partner).Bind(template_id); }, ReadTemplate);
    });
}

Result<std::vector<Automation>> SqlStore::CreateInstalledAutomations(PartnerId partner, const Automation& main,
                                                                     const std::vector<Automation>& members) {
    return ConfigWrite([&](Connection& c) -> Result<std::vector<Automation>> {
        auto owner = sql::Count(c, "SELECT COUNT(*) FROM accounts WHERE partner_id = ? AND id = ?",
                                [&](Statement& s) { s.Bind(partner).Bind(main.account_id); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Account not found.");
        std::vector<Automation> out;
        auto insert = [&](Automation b) -> Status {
            auto name = FreeName(c, b.account_id, b.name);
            if (!name) return std::move(name).error();
            b.name = std::move(*name);
            auto id = sql::InsertAutomation(c, b);
            if (!id) return std::move(id).error();
            b.id = *id;
            out.push_back(std::move(b));
            return Ok();
        };
        if (auto r = insert(main); !r) return std::move(r).error();
        for (Automation member : members) {
            member.account_id = main.account_id;
            member.bundle_id = out.front().id;
            if (auto r = insert(std::move(member)); !r) return std::move(r).error();
        }
        return out;
    });
}

Result<std::vector<Automation>> SqlStore::ListBundleMembers(PartnerId partner, std::int64_t account_id,
                                                            std::int64_t bundle_automation_id) {
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<Automation>(
            c,
            sql::AutomationSelect() + "WHERE a.partner_id = ? AND b.account_id = ? AND b.bundle_id = ? ORDER BY b.id",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(bundle_automation_id); }, sql::ReadAutomationRow);
    });
}

Result<std::vector<Automation>> SqlStore::FindTemplateInstances(PartnerId partner, std::int64_t account_id,
                                                                std::string_view template_guid) {
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<Automation>(
            c,
            sql::AutomationSelect() +
                "WHERE a.partner_id = ? AND b.account_id = ? AND b.template_guid = ? AND b.bundle_id IS NULL "
                "ORDER BY b.id",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(template_guid); }, sql::ReadAutomationRow);
    });
}

}  // namespace weft
