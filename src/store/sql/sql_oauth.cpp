// SqlStore: pending OAuth2 authorisations of datasources (the authorization code flow's `state`).
#include "store/sql/query.h"
#include "store/sql/sql_store.h"

namespace weft {

using sql::Connection;
using sql::Statement;

Status SqlStore::CreateOAuthState(const OAuthState& state) {
    return db_->Write([&](Connection& c) -> Status {
        Statement prune(c, "DELETE FROM oauth_states WHERE expires_at < ?");
        prune.Bind(state.created_at);
        if (auto r = prune.Run(); !r) return r;
        Statement s(c,
                    "INSERT INTO oauth_states (state_hash, datasource_id, redirect_uri, expires_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?)");
        s.Bind(state.state_hash).Bind(state.datasource_id).Bind(state.redirect_uri).Bind(state.expires_at);
        s.Bind(state.created_at);
        return s.Run();
    });
}

Result<OAuthState> SqlStore::ClaimOAuthState(std::string_view state_hash) {
    return db_->Write([&](Connection& c) -> Result<OAuthState> {
        auto found = sql::QueryOne<OAuthState>(
            c,
            "SELECT s.id, s.state_hash, s.datasource_id, d.guid, s.redirect_uri, s.expires_at, s.created_at "
            "FROM oauth_states s JOIN datasources d ON d.id = s.datasource_id WHERE s.state_hash = ?",
            [&](Statement& s) { s.Bind(state_hash); },
            [](const Statement& s) {
                OAuthState o;
                o.id = s.Int(0);
                o.state_hash = s.Text(1);
                o.datasource_id = s.Int(2);
                o.datasource_guid = s.Text(3);
                o.redirect_uri = s.Text(4);
                o.expires_at = s.Int(5);
                o.created_at = s.Int(6);
                return o;
            },
            "Authorisation state");
        if (!found) return std::move(found).error();
        // Two processes may read the row at once; only the one whose DELETE removes it owns it (on PostgreSQL
        // the second DELETE waits for the first transaction and then finds no row).
        Statement del(c, "DELETE FROM oauth_states WHERE id = ?");
        del.Bind(found->id);
        if (auto r = del.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return Error::NotFound("Authorisation state not found.");
        return std::move(*found);
    });
}

Status SqlStore::DeleteOAuthStates(std::int64_t datasource_id) {
    return db_->Write([&](Connection& c) -> Status {
        Statement s(c, "DELETE FROM oauth_states WHERE datasource_id = ?");
        s.Bind(datasource_id);
        return s.Run();
    });
}

}  // namespace weft
