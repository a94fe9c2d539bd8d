// SqliteStore: the partner's own connectors and the datasources of accounts.
#include "core/ids.h"
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

namespace {

constexpr const char* kConnectorColumns =
    "SELECT id, partner_id, guid, connector_key, definition, is_partner_connector, created_at, updated_at "
    "FROM connectors ";

StoredConnector ReadConnector(const Statement& s) {
    StoredConnector c;
    c.id = s.Int(0);
    c.partner_id = s.Int(1);
    c.guid = s.Text(2);
    c.key = s.Text(3);
    c.definition = s.Text(4);
    c.is_partner_connector = s.Int(5) != 0;
    c.created_at = s.Int(6);
    c.updated_at = s.Int(7);
    return c;
}

constexpr const char* kDatasourceColumns =
    "SELECT d.id, d.account_id, d.guid, d.name, d.connector_guid, d.params, d.sealed, d.is_connected, "
    "d.redirect_url, d.created_at, d.updated_at, a.partner_id FROM datasources d JOIN accounts a ON a.id = "
    "d.account_id ";

Datasource ReadDatasource(const Statement& s) {
    Datasource d;
    d.id = s.Int(0);
    d.account_id = s.Int(1);
    d.guid = s.Text(2);
    d.name = s.Text(3);
    d.connector_guid = s.Text(4);
    d.params = s.Text(5);
    d.sealed = s.Text(6);
    d.connected = s.Int(7) != 0;
    d.redirect_url = s.OptText(8);
    d.created_at = s.Int(9);
    d.updated_at = s.Int(10);
    return d;
}

constexpr const char* kDuplicateKey = "A connector with this key already exists.";

Status ClearPartnerConnectorFlag(Connection& c, PartnerId partner, std::int64_t except_id) {
    Statement s(c, "UPDATE connectors SET is_partner_connector = 0 WHERE partner_id = ? AND id <> ?");
    s.Bind(partner).Bind(except_id);
    return s.Run();
}

// Automations of the account that mention the guid in their definition or persisted inputs. Guids hold only
// hex digits and dashes, so they need no LIKE escaping.
constexpr const char* kUsingDatasource =
    "FROM automations b JOIN accounts a ON a.id = b.account_id WHERE a.partner_id = ? AND b.account_id = ? AND "
    "(b.definition LIKE ? OR b.persisted_inputs LIKE ?)";

}  // namespace

Result<StoredConnector> SqlStore::CreateConnector(const StoredConnector& in) {
    return db_->Write([&](Connection& c) -> Result<StoredConnector> {
        Statement s(c,
                    "INSERT INTO connectors (partner_id, guid, connector_key, definition, is_partner_connector, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        s.Bind(in.partner_id).Bind(in.guid).Bind(in.key).Bind(in.definition).Bind(in.is_partner_connector);
        s.Bind(in.created_at).Bind(in.updated_at);
        if (auto r = s.Run(); !r) return sql::ConflictOr(std::move(r).error(), kDuplicateKey);
        StoredConnector out = in;
        out.id = c.LastInsertId();
        if (out.is_partner_connector) {
            if (auto r = ClearPartnerConnectorFlag(c, in.partner_id, out.id); !r) return std::move(r).error();
        }
        return out;
    });
}

Result<StoredConnector> SqlStore::FindConnector(PartnerId partner, std::string_view key) {
    return db_->Read([&](Connection& c) {
        return sql::QueryByGuidOr<StoredConnector>(
            c, std::string(kConnectorColumns) + "WHERE partner_id = ? AND ", "guid", "connector_key", key,
            [&](Statement& s) { s.Bind(partner); }, ReadConnector, "Connector");
    });
}

Result<Page<StoredConnector>> SqlStore::ListConnectors(PartnerId partner, const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<StoredConnector>> {
        auto total = sql::Count(c, "SELECT COUNT(*) FROM connectors WHERE partner_id = ?",
                                [&](Statement& s) { s.Bind(partner); });
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<StoredConnector>(
            c, std::string(kConnectorColumns) + "WHERE partner_id = ? ORDER BY id LIMIT ? OFFSET ?",
            [&](Statement& s) { s.Bind(partner).Bind(page.limit).Bind(page.offset); }, ReadConnector);
        if (!items) return std::move(items).error();
        return Page<StoredConnector>{std::move(*items), *total};
    });
}

Result<std::optional<StoredConnector>> SqlStore::FindPartnerConnector(PartnerId partner) {
    return db_->Read([&](Connection& c) -> Result<std::optional<StoredConnector>> {
        auto items = sql::QueryAll<StoredConnector>(
            c, std::string(kConnectorColumns) + "WHERE partner_id = ? AND is_partner_connector = 1 ORDER BY id",
            [&](Statement& s) { s.Bind(partner); }, ReadConnector);
        if (!items) return std::move(items).error();
        if (items->empty()) return std::optional<StoredConnector>();
        return std::optional<StoredConnector>(std::move(items->front()));
    });
}

Result<StoredConnector> SqlStore::SaveConnector(PartnerId partner, const StoredConnector& in) {
    return db_->Write([&](Connection& c) -> Result<StoredConnector> {
        Statement s(c,
                    "UPDATE connectors SET connector_key = ?, definition = ?, is_partner_connector = ?, "
                    "updated_at = ? WHERE partner_id = ? AND id = ?");
        s.Bind(in.key).Bind(in.definition).Bind(in.is_partner_connector).Bind(in.updated_at);
        s.Bind(partner).Bind(in.id);
        if (auto r = s.Run(); !r) return sql::ConflictOr(std::move(r).error(), kDuplicateKey);
        if (c.Changes() == 0) return Error::NotFound("Connector not found.");
        if (in.is_partner_connector) {
            if (auto r = ClearPartnerConnectorFlag(c, partner, in.id); !r) return std::move(r).error();
        }
        return sql::QueryOne<StoredConnector>(
            c, std::string(kConnectorColumns) + "WHERE partner_id = ? AND id = ?",
            [&](Statement& st) { st.Bind(partner).Bind(in.id); }, ReadConnector, "Connector");
    });
}

Status SqlStore::DeleteConnector(PartnerId partner, std::int64_t connector_id) {
    return db_->Write([&](Connection& c) -> Status {
        auto used = sql::Count(c,
                               "SELECT COUNT(*) FROM datasources d JOIN accounts a ON a.id = d.account_id "
                               "JOIN connectors k ON k.guid = d.connector_guid "
                               "WHERE a.partner_id = ? AND k.partner_id = ? AND k.id = ?",
                               [&](Statement& s) { s.Bind(partner).Bind(partner).Bind(connector_id); });
        if (!used) return std::move(used).error();
        if (*used > 0) {
            return Error::Invalid("The connector is used by " + std::to_string(*used) +
                                  " datasource(s); delete them first.");
        }
        Statement s(c, "DELETE FROM connectors WHERE partner_id = ? AND id = ?");
        s.Bind(partner).Bind(connector_id);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("Connector not found.");
        return Ok();
    });
}

Result<Datasource> SqlStore::CreateDatasource(PartnerId partner, const Datasource& d) {
    return db_->Write([&](Connection& c) -> Result<Datasource> {
        auto owner = sql::Count(c, "SELECT COUNT(*) FROM accounts WHERE partner_id = ? AND id = ?",
                                [&](Statement& s) { s.Bind(partner).Bind(d.account_id); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Account not found.");
        Statement s(c,
                    "INSERT INTO datasources (account_id, guid, name, connector_guid, params, sealed, is_connected, "
                    "redirect_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        s.Bind(d.account_id).Bind(d.guid).Bind(d.name).Bind(d.connector_guid).Bind(d.params).Bind(d.sealed);
        s.Bind(d.connected).Bind(d.redirect_url).Bind(d.created_at).Bind(d.updated_at);
        if (auto r = s.Run(); !r) return std::move(r).error();
        Datasource out = d;
        out.id = c.LastInsertId();
        return out;
    });
}

Result<Datasource> SqlStore::FindDatasource(PartnerId partner, std::int64_t account_id, std::string_view guid) {
    return db_->Read([&](Connection& c) {
        return sql::QueryOne<Datasource>(
            c, std::string(kDatasourceColumns) + "WHERE a.partner_id = ? AND d.account_id = ? AND d.guid = ?",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(guid); }, ReadDatasource, "Datasource");
    });
}

Result<Page<Datasource>> SqlStore::ListDatasources(PartnerId partner, std::int64_t account_id,
                                                   const PageRequest& page) {
    return db_->ReadSnapshot([&](Connection& c) -> Result<Page<Datasource>> {
        auto bind = [&](Statement& s) { s.Bind(partner).Bind(account_id); };
        auto total = sql::Count(c,
                                "SELECT COUNT(*) FROM datasources d JOIN accounts a ON a.id = d.account_id "
                                "WHERE a.partner_id = ? AND d.account_id = ?",
                                bind);
        if (!total) return std::move(total).error();
        auto items = sql::QueryAll<Datasource>(
            c,
            std::string(kDatasourceColumns) +
                "WHERE a.partner_id = ? AND d.account_id = ? ORDER BY d.id LIMIT ? "
                "OFFSET ?",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadDatasource);
        if (!items) return std::move(items).error();
        return Page<Datasource>{std::move(*items), *total};
    });
}

Result<std::vector<Datasource>> SqlStore::FindDatasourcesOfConnector(PartnerId partner, std::int64_t account_id,
                                                                     std::string_view connector_guid) {
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<Datasource>(
            c,
            std::string(kDatasourceColumns) +
                "WHERE a.partner_id = ? AND d.account_id = ? AND d.connector_guid = ? ORDER BY d.id",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(connector_guid); }, ReadDatasource);
    });
}

Result<OwnedDatasource> SqlStore::FindDatasourceAnywhere(std::string_view guid) {
    return db_->Read([&](Connection& c) {
        return sql::QueryOne<OwnedDatasource>(
            c, std::string(kDatasourceColumns) + "WHERE d.guid = ?", [&](Statement& s) { s.Bind(guid); },
            [](const Statement& s) {
                return OwnedDatasource{s.Int(11), ReadDatasource(s)};
            },
            "Datasource");
    });
}

Result<Datasource> SqlStore::SaveDatasource(PartnerId partner, const Datasource& d) {
    return db_->Write([&](Connection& c) -> Result<Datasource> {
        Statement s(c,
                    "UPDATE datasources SET name = ?, params = ?, sealed = ?, is_connected = ?, redirect_url = ?, "
                    "updated_at = ? WHERE id = ? AND account_id IN (SELECT id FROM accounts WHERE partner_id = ? "
                    "AND id = ?)");
        s.Bind(d.name).Bind(d.params).Bind(d.sealed).Bind(d.connected).Bind(d.redirect_url).Bind(d.updated_at);
        s.Bind(d.id).Bind(partner).Bind(d.account_id);
        if (auto r = s.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return Error::NotFound("Datasource not found.");
        return d;
    });
}

Status SqlStore::DeleteDatasource(PartnerId partner, std::int64_t account_id, std::int64_t datasource_id) {
    return db_->Write([&](Connection& c) -> Status {
        auto found = sql::QueryOne<Datasource>(
            c, std::string(kDatasourceColumns) + "WHERE a.partner_id = ? AND d.account_id = ? AND d.id = ?",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(datasource_id); }, ReadDatasource, "Datasource");
        if (!found) return std::move(found).error();
        const std::string like = "%" + found->guid + "%";
        auto used = sql::Count(c, std::string("SELECT COUNT(*) ") + kUsingDatasource,
                               [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(like).Bind(like); });
        if (!used) return std::move(used).error();
        if (*used > 0) {
            return Error{ErrorCode::kDatasourceInUse, "The datasource is used by an automation.", {}, {}};
        }
        Statement s(c, "DELETE FROM datasources WHERE id = ?");
        s.Bind(datasource_id);
        return s.Run();
    });
}

Result<std::vector<Automation>> SqlStore::AutomationsUsingDatasource(PartnerId partner, std::int64_t account_id,
                                                                     std::string_view guid) {
    const std::string like = "%" + std::string(guid) + "%";
    auto ids = db_->Read([&](Connection& c) {
        return sql::QueryAll<std::string>(
            c, std::string("SELECT b.guid ") + kUsingDatasource + " ORDER BY b.id",
            [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(like).Bind(like); },
            [](const Statement& s) { return s.Text(0); });
    });
    if (!ids) return std::move(ids).error();
    std::vector<Automation> out;
    for (const auto& id : *ids) {
        auto b = FindAutomation(partner, account_id, id);
        if (b) out.push_back(std::move(*b));
    }
    return out;
}

Result<std::vector<Datasource>> SqlStore::ListSealedDatasources(std::int64_t after_id, int limit) {
    return db_->Read([&](Connection& c) {
        return sql::QueryAll<Datasource>(
            c, std::string(kDatasourceColumns) + "WHERE d.id > ? AND d.sealed <> '' ORDER BY d.id LIMIT ?",
            [&](Statement& s) { s.Bind(after_id).Bind(limit); }, ReadDatasource);
    });
}

Result<bool> SqlStore::ResealDatasource(std::int64_t datasource_id, const std::string& old_sealed,
                                        const std::string& new_sealed) {
    return db_->Write([&](Connection& c) -> Result<bool> {
        // Only when unchanged since it was read: a concurrent token refresh wins (the caller reads it again).
        Statement s(c, "UPDATE datasources SET sealed = ? WHERE id = ? AND sealed = ?");
        s.Bind(new_sealed).Bind(datasource_id).Bind(old_sealed);
        if (auto r = s.Run(); !r) return std::move(r).error();
        return c.Changes() > 0;
    });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> SqlStore::SealedKeyIds() {
    using Row = std::pair<std::string, std::int64_t>;
    return db_->Read([&](Connection& c) {
        // SecretBox values are "<16 hex digits of key id>:<base64>".
        return sql::QueryAll<Row>(
            c,
            "SELECT substr(sealed, 1, 16), COUNT(*) FROM datasources WHERE sealed <> '' GROUP BY substr(sealed, 1, "
            "16) ORDER BY 1",
            [](Statement&) {},
            [](const Statement& s) {
                return Row{s.Text(0), s.Int(1)};
            });
    });
}

}  // namespace weft
