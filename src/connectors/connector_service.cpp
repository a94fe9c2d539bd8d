#include "connectors/connector_service.h"

#include <algorithm>

#include "connectors/connector_call.h"
#include "core/crypto.h"
#include "core/ids.h"

namespace weft::connectors {

namespace {

constexpr const char* kNeedsAuthorising = "Open the link to authorise this datasource (valid for 30 minutes).";

Error InUse(std::string message) { return Error{ErrorCode::kDatasourceInUse, std::move(message), {}, {}}; }

std::string Base64Url(std::string_view bytes) {
    std::string s = Base64Encode(bytes);
    for (auto& c : s) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
}

bool FromBase64Url(std::string_view text, std::string& out) {
    std::string s(text);
    for (auto& c : s) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/')
            return false;
    }
    return Base64Decode(s, out);
}

std::string HexToBytes(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::string HmacB64(const std::string& key, const std::string& data) {
    return Base64Url(HexToBytes(HmacSha256Hex(key, data)));
}

json::value TokensToJson(const OAuthTokens& t) {
    json::object o{{"access_token", t.access_token}, {"refresh_token", t.refresh_token}};
    o["expires_at"] = t.expires_at ? json::value(*t.expires_at) : json::value(nullptr);
    return o;
}

}  // namespace

std::string SignLinkToken(const std::string& key, const std::string& guid, Micros now) {
    const std::int64_t iat = now / 1'000'000;
    const std::string header = Base64Url(R"({"alg":"HS256","typ":"JWT"})");
    const std::string claims = Base64Url(
        ToJson(json::object{{"sub", guid}, {"iat", iat}, {"exp", iat + ConnectorService::kLinkLifetime / 1'000'000}}));
    const std::string signing_input = header + "." + claims;
    return signing_input + "." + HmacB64(key, signing_input);
}

Result<std::string> VerifyLinkToken(const std::string& key, std::string_view token, Micros now) {
    const auto refused = [](const char* why) { return Error{ErrorCode::kUnauthenticated, why, {}, {}}; };
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return refused("The link is malformed.");
    const std::string signing_input(token.substr(0, dot2));
    if (!ConstantTimeEquals(HmacB64(key, signing_input), token.substr(dot2 + 1))) {
        return refused("The link's signature is not valid.");
    }
    std::string header_text, claims_text;
    if (!FromBase64Url(token.substr(0, dot1), header_text) ||
        !FromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1), claims_text)) {
        return refused("The link is malformed.");
    }
    auto header = ParseJson(header_text);
    auto claims = ParseJson(claims_text);
    if (!header || !header->is_object() || !claims || !claims->is_object()) return refused("The link is malformed.");
    const auto* alg = header->as_object().if_contains("alg");
    if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") return refused("The link is malformed.");
    const auto* sub = claims->as_object().if_contains("sub");
    const auto* exp = claims->as_object().if_contains("exp");
    if (sub == nullptr || !sub->is_string() || exp == nullptr || !exp->is_int64()) {
        return refused("The link is malformed.");
    }
    if (exp->get_int64() * 1'000'000 < now) return refused("The link has expired; ask for a new one.");
    return std::string(sub->get_string());
}

ConnectorService::ConnectorService(Store& store, const Clock& clock, const SecretBox& secrets,
                                   const BuiltinConnectors& builtin)
    : store_(store), clock_(clock), secrets_(secrets), builtin_(builtin) {}

namespace {

Result<ConnectorInfo> InfoOf(const StoredConnector& c) {
    auto doc = ParseJson(c.definition);
    if (!doc) return Error::Internal("stored connector " + c.guid + " is not JSON");
    auto def = ParseConnectorDef(*doc);
    if (!def) return Error::Internal("stored connector " + c.guid + " no longer validates");
    ConnectorInfo info;
    info.ref = {c.guid, std::make_shared<const ConnectorDef>(std::move(*def))};
    info.builtin = false;
    info.is_partner_connector = c.is_partner_connector;
    info.created_at = c.created_at;
    info.updated_at = c.updated_at;
    return info;
}

ConnectorInfo BuiltinInfo(const ConnectorRef& ref) {
    return ConnectorInfo{ref, true, false, std::nullopt, std::nullopt};
}

// The definition and the partner-connector flag of a create/update body.
Result<std::pair<ConnectorDef, bool>> ReadConnectorBody(const json::object& body) {
    json::object doc = body;
    bool flag = false;
    if (const auto* f = doc.if_contains("is_partner_connector")) {
        if (!f->is_bool()) return Error::Validation({{"is_partner_connector", {"must be true or false"}}});
        flag = f->get_bool();
        doc.erase("is_partner_connector");
    }
    auto def = ParseConnectorDef(doc);
    if (!def) return std::move(def).error();
    return std::pair{std::move(*def), flag};
}

}  // namespace

Result<Page<ConnectorInfo>> ConnectorService::ListConnectors(PartnerId partner, const PageRequest& page) {
    const auto& all = builtin_.all();
    const auto builtin_count = static_cast<std::int64_t>(all.size());
    Page<ConnectorInfo> out;
    for (std::int64_t i = page.offset; i < builtin_count && i < page.offset + page.limit; ++i) {
        out.items.push_back(BuiltinInfo(all[static_cast<std::size_t>(i)]));
    }
    PageRequest own;
    own.offset = std::max<std::int64_t>(0, page.offset - builtin_count);
    own.limit = page.limit - static_cast<std::int64_t>(out.items.size());
    auto stored = store_.ListConnectors(partner, PageRequest{own.offset, std::max<std::int64_t>(own.limit, 1)});
    if (!stored) return std::move(stored).error();
    if (own.limit > 0) {
        for (const auto& c : stored->items) {
            auto info = InfoOf(c);
            if (!info) return std::move(info).error();
            out.items.push_back(std::move(*info));
        }
    }
    out.total = builtin_count + stored->total;
    return out;
}

Result<ConnectorInfo> ConnectorService::GetConnector(PartnerId partner, std::string_view key) {
    if (const auto* b = builtin_.Find(key)) return BuiltinInfo(*b);
    auto stored = store_.FindConnector(partner, key);
    if (!stored) return std::move(stored).error();
    return InfoOf(*stored);
}

Result<ConnectorInfo> ConnectorService::CreateConnector(PartnerId partner, const json::object& body) {
    auto read = ReadConnectorBody(body);
    if (!read) return std::move(read).error();
    if (builtin_.Find(read->first.key) != nullptr) {
        return Error::Conflict("'" + read->first.key + "' is the key of a built-in connector.");
    }
    StoredConnector c;
    c.partner_id = partner;
    c.guid = NewGuid(clock_.Now());
    c.key = read->first.key;
    json::object doc = body;
    doc.erase("is_partner_connector");
    c.definition = ToJson(doc);
    c.is_partner_connector = read->second;
    c.created_at = c.updated_at = clock_.Now();
    auto created = store_.CreateConnector(c);
    if (!created) return std::move(created).error();
    return InfoOf(*created);
}

Result<ConnectorInfo> ConnectorService::UpdateConnector(PartnerId partner, std::string_view key,
                                                        const json::object& body) {
    if (builtin_.Find(key) != nullptr) return Error::Invalid("Built-in connectors cannot be changed.");
    auto stored = store_.FindConnector(partner, key);
    if (!stored) return std::move(stored).error();
    auto read = ReadConnectorBody(body);
    if (!read) return std::move(read).error();
    if (builtin_.Find(read->first.key) != nullptr) {
        return Error::Conflict("'" + read->first.key + "' is the key of a built-in connector.");
    }
    json::object doc = body;
    doc.erase("is_partner_connector");
    stored->key = read->first.key;
    stored->definition = ToJson(doc);
    if (body.contains("is_partner_connector")) stored->is_partner_connector = read->second;
    stored->updated_at = clock_.Now();
    auto saved = store_.SaveConnector(partner, *stored);
    if (!saved) return std::move(saved).error();
    return InfoOf(*saved);
}

Status ConnectorService::DeleteConnector(PartnerId partner, std::string_view key) {
    if (builtin_.Find(key) != nullptr) return Error::Invalid("Built-in connectors cannot be deleted.");
    auto stored = store_.FindConnector(partner, key);
    if (!stored) return std::move(stored).error();
    return store_.DeleteConnector(partner, stored->id);
}

Result<ConnectorRef> ConnectorService::FindConnector(std::int64_t partner, std::string_view key) {
    auto info = GetConnector(partner, key);
    if (!info) return std::move(info).error();
    return info->ref;
}

Result<ConnectorService::Secrets> ConnectorService::Unseal(const Datasource& d) const {
    Secrets s;
    if (d.sealed.empty()) return s;
    auto plain = secrets_.Open(d.sealed);
    if (!plain) return std::move(plain).error();
    auto doc = ParseJson(*plain);
    if (!doc || !doc->is_object()) return Error::Internal("datasource " + d.guid + ": sealed secrets are not JSON");
    const auto& o = doc->as_object();
    if (const auto* p = o.if_contains("params"); p != nullptr && p->is_object()) s.params = p->as_object();
    if (const auto* t = o.if_contains("tokens"); t != nullptr && t->is_object()) {
        const auto& to = t->as_object();
        if (const auto* a = to.if_contains("access_token"); a && a->is_string()) s.tokens.access_token = a->as_string();
        if (const auto* r = to.if_contains("refresh_token"); r && r->is_string())
            s.tokens.refresh_token = r->as_string();
        if (const auto* e = to.if_contains("expires_at"); e && e->is_int64()) s.tokens.expires_at = e->as_int64();
    }
    return s;
}

std::string ConnectorService::Seal(const Secrets& s) const {
    if (s.params.empty() && s.tokens.access_token.empty() && s.tokens.refresh_token.empty()) return {};
    return secrets_.Seal(ToJson(json::object{{"params", s.params}, {"tokens", TokensToJson(s.tokens)}}));
}

std::string ConnectorService::Link(const Datasource& d) const {
    return "/datasources/" + d.guid +
           "/link?jwt=" + SignLinkToken(secrets_.DeriveKey("datasource-link"), d.guid, clock_.Now());
}

Result<Datasource> ConnectorService::Assign(const ConnectorDef& def, Datasource d, const json::object& given,
                                            bool partial) {
    // "********" for a secret means "keep the stored one" (a client echoing what it read).
    json::object params;
    for (const auto& kv : given) {
        const ParamSpec* p = def.FindParam(kv.key());
        if (p != nullptr && p->secret && kv.value().is_string() && kv.value().get_string() == kMasked) continue;
        params[kv.key()] = kv.value();
    }
    auto faults = CheckDatasourceParams(def, params, partial);
    if (!faults.empty()) return Error::Validation(std::move(faults));
    auto secrets = Unseal(d);
    if (!secrets) return std::move(secrets).error();
    auto plain = ParseJson(d.params);
    json::object visible = plain && plain->is_object() ? plain->as_object() : json::object{};
    for (const auto& p : def.params) {
        const json::value* v = params.if_contains(p.name);
        if (v == nullptr && !partial && !p.default_value.is_null()) v = &p.default_value;
        if (v == nullptr) continue;
        (p.secret ? secrets->params : visible)[p.name] = *v;
    }
    d.params = ToJson(visible);
    d.sealed = Seal(*secrets);
    return d;
}

Result<DatasourceDetails> ConnectorService::Details(PartnerId partner, const Account& account, Datasource d,
                                                    bool with_blends) {
    DatasourceDetails out;
    auto connector = GetConnector(partner, d.connector_guid);
    if (!connector) return Error::Internal("datasource " + d.guid + ": its connector is gone");
    out.connector = std::move(*connector);
    auto plain = ParseJson(d.params);
    if (plain && plain->is_object()) out.params = plain->as_object();
    auto secrets = Unseal(d);
    if (!secrets) return std::move(secrets).error();
    for (const auto& p : out.connector.ref.def->params) {
        if (p.secret && secrets->params.contains(p.name)) out.params[p.name] = kMasked;
    }
    auto used = store_.AutomationsUsingDatasource(partner, account.id, d.guid);
    if (!used) return std::move(used).error();
    out.is_used = !used->empty();
    if (with_blends) out.blends = std::move(*used);
    if (out.connector.ref.def->auth.type == AuthType::kOAuth2AuthorizationCode && !d.connected) out.link = Link(d);
    out.datasource = std::move(d);
    return out;
}

Result<Page<DatasourceDetails>> ConnectorService::ListDatasources(PartnerId partner, const Account& account,
                                                                  const PageRequest& page) {
    auto stored = store_.ListDatasources(partner, account.id, page);
    if (!stored) return std::move(stored).error();
    Page<DatasourceDetails> out;
    out.total = stored->total;
    for (auto& d : stored->items) {
        auto details = Details(partner, account, std::move(d), false);
        if (!details) return std::move(details).error();
        out.items.push_back(std::move(*details));
    }
    return out;
}

Result<DatasourceDetails> ConnectorService::GetDatasource(PartnerId partner, const Account& account,
                                                          std::string_view guid) {
    auto d = store_.FindDatasource(partner, account.id, guid);
    if (!d) return std::move(d).error();
    return Details(partner, account, std::move(*d), true);
}

Result<DatasourceDetails> ConnectorService::CreateDatasource(PartnerId partner, const Account& account,
                                                             const DatasourceInput& in) {
    FieldErrors errors;
    if (!in.connector || in.connector->empty()) errors["connector_guid"].push_back("is required");
    if (in.name && in.name->empty()) errors["name"].push_back("must not be empty");
    if (!errors.empty()) return Error::Validation(std::move(errors));
    auto connector = GetConnector(partner, *in.connector);
    if (!connector) {
        if (connector.error().code == ErrorCode::kNotFound) {
            return Error::Validation({{"connector_guid", {"there is no connector '" + *in.connector + "'"}}});
        }
        return std::move(connector).error();
    }
    const auto& def = *connector->ref.def;
    Datasource d;
    d.account_id = account.id;
    d.guid = NewGuid(clock_.Now());
    d.name = in.name ? *in.name : def.name;
    d.connector_guid = connector->ref.guid;
    d.connected = def.auth.type != AuthType::kOAuth2AuthorizationCode;
    d.redirect_url = in.redirect_url;
    d.created_at = d.updated_at = clock_.Now();
    auto assigned = Assign(def, std::move(d), in.params.value_or(json::object{}), false);
    if (!assigned) return std::move(assigned).error();
    auto created = store_.CreateDatasource(partner, *assigned);
    if (!created) return std::move(created).error();
    return Details(partner, account, std::move(*created), false);
}

Result<DatasourceDetails> ConnectorService::UpdateDatasource(PartnerId partner, const Account& account,
                                                             std::string_view guid, const DatasourceInput& in) {
    auto d = store_.FindDatasource(partner, account.id, guid);
    if (!d) return std::move(d).error();
    if (in.name) {
        if (in.name->empty()) return Error::Validation({{"name", {"must not be empty"}}});
        d->name = *in.name;
    }
    if (in.redirect_url) d->redirect_url = in.redirect_url;
    auto connector = GetConnector(partner, d->connector_guid);
    if (!connector) return Error::Internal("datasource " + d->guid + ": its connector is gone");
    if (in.params) {
        auto assigned = Assign(*connector->ref.def, std::move(*d), *in.params, true);
        if (!assigned) return std::move(assigned).error();
        *d = std::move(*assigned);
    }
    d->updated_at = clock_.Now();
    auto saved = store_.SaveDatasource(partner, *d);
    if (!saved) return std::move(saved).error();
    return Details(partner, account, std::move(*saved), false);
}

Status ConnectorService::DeleteDatasource(PartnerId partner, const Account& account, std::string_view guid) {
    auto d = store_.FindDatasource(partner, account.id, guid);
    if (!d) return std::move(d).error();
    auto r = store_.DeleteDatasource(partner, account.id, d->id);
    if (!r && r.error().code == ErrorCode::kDatasourceInUse) {
        return InUse("The datasource is used by automations of this account; remove it from them first.");
    }
    return r;
}

Result<std::vector<Automation>> ConnectorService::UsedBy(PartnerId partner, const Account& account,
                                                         std::string_view guid) {
    return store_.AutomationsUsingDatasource(partner, account.id, guid);
}

Status ConnectorService::CheckPartnerCredentials(PartnerId partner, const json::object& params) {
    auto own = store_.FindPartnerConnector(partner);
    if (!own) return std::move(own).error();
    if (!*own) {
        return Error::Validation(
            {{"datasource", {"the partner has no connector of its own (create one with is_partner_connector: true)"}}});
    }
    auto info = InfoOf(**own);
    if (!info) return std::move(info).error();
    auto faults = CheckDatasourceParams(*info->ref.def, params, false);
    if (!faults.empty()) {
        FieldErrors prefixed;
        for (auto& [k, v] : faults) prefixed["datasource." + k] = std::move(v);
        return Error::Validation(std::move(prefixed));
    }
    return Ok();
}

Status ConnectorService::SetPartnerCredentials(PartnerId partner, const Account& account, const json::object& params) {
    auto own = store_.FindPartnerConnector(partner);
    if (!own) return std::move(own).error();
    if (!*own) return CheckPartnerCredentials(partner, params);
    auto existing = store_.FindDatasourcesOfConnector(partner, account.id, (*own)->guid);
    if (!existing) return std::move(existing).error();
    DatasourceInput in;
    in.params = params;
    if (existing->empty()) {
        in.connector = (*own)->guid;
        auto created = CreateDatasource(partner, account, in);
        if (!created) return std::move(created).error();
        return Ok();
    }
    auto updated = UpdateDatasource(partner, account, existing->front().guid, in);
    if (!updated) return std::move(updated).error();
    return Ok();
}

Result<ResolvedDatasource> ConnectorService::FindDatasource(std::int64_t partner, std::int64_t account_id,
                                                            std::string_view guid) {
    auto d = store_.FindDatasource(partner, account_id, guid);
    if (!d) return std::move(d).error();
    auto secrets = Unseal(*d);
    if (!secrets) return std::move(secrets).error();
    ResolvedDatasource out;
    out.guid = d->guid;
    out.connector_guid = d->connector_guid;
    auto plain = ParseJson(d->params);
    if (plain && plain->is_object()) out.params = plain->as_object();
    for (const auto& kv : secrets->params) out.params[kv.key()] = kv.value();
    out.tokens = secrets->tokens;
    out.connected = d->connected;
    return out;
}

Status ConnectorService::SaveTokens(std::int64_t partner, std::int64_t account_id, std::string_view guid,
                                    const OAuthTokens& tokens) {
    auto d = store_.FindDatasource(partner, account_id, guid);
    if (!d) return std::move(d).error();
    auto secrets = Unseal(*d);
    if (!secrets) return std::move(secrets).error();
    secrets->tokens = tokens;
    d->sealed = Seal(*secrets);
    d->connected = true;
    d->updated_at = clock_.Now();
    auto saved = store_.SaveDatasource(partner, *d);
    if (!saved) return std::move(saved).error();
    return Ok();
}

Status ConnectorService::MarkDisconnected(std::int64_t partner, std::int64_t account_id, std::string_view guid) {
    auto d = store_.FindDatasource(partner, account_id, guid);
    if (!d) return std::move(d).error();
    auto secrets = Unseal(*d);
    if (!secrets) return std::move(secrets).error();
    secrets->tokens = {};
    d->sealed = Seal(*secrets);
    d->connected = false;
    d->updated_at = clock_.Now();
    auto saved = store_.SaveDatasource(partner, *d);
    if (!saved) return std::move(saved).error();
    return Ok();
}

Result<std::string> ConnectorService::VerifyLink(std::string_view jwt) const {
    return VerifyLinkToken(secrets_.DeriveKey("datasource-link"), jwt, clock_.Now());
}

Result<AuthorizingDatasource> ConnectorService::FindForAuthorization(std::string_view guid) {
    auto owned = store_.FindDatasourceAnywhere(guid);
    if (!owned) return std::move(owned).error();
    AuthorizingDatasource out;
    out.partner = owned->partner_id;
    auto connector = FindConnector(out.partner, owned->datasource.connector_guid);
    if (!connector) return Error::Internal("datasource " + owned->datasource.guid + ": its connector is gone");
    out.connector = std::move(*connector);
    auto resolved = FindDatasource(out.partner, owned->datasource.account_id, guid);
    if (!resolved) return std::move(resolved).error();
    out.resolved = std::move(*resolved);
    out.datasource = std::move(owned->datasource);
    return out;
}

Result<int> ConnectorService::ResealAll() {
    // Each value is re-sealed on its own, only if it did not change since it was read: an interrupted rotation
    // leaves every value readable (under the old or the new key) and running it again finishes the job. A value
    // that changed meanwhile (a token refresh) is read again in the next pass.
    constexpr int kMaxPasses = 5;
    int count = 0;
    for (int pass = 0; pass < kMaxPasses; ++pass) {
        int raced = 0;
        std::int64_t after = 0;
        for (;;) {
            auto batch = store_.ListSealedDatasources(after, 200);
            if (!batch) return std::move(batch).error();
            if (batch->empty()) break;
            for (const auto& d : *batch) {
                after = d.id;
                if (SecretBox::KeyIdOf(d.sealed) == secrets_.current_key_id()) continue;
                auto plain = secrets_.Open(d.sealed);
                if (!plain) return Error::Invalid("datasource " + d.guid + ": " + plain.error().detail);
                auto r = store_.ResealDatasource(d.id, d.sealed, secrets_.Seal(*plain));
                if (!r) return std::move(r).error();
                if (*r) {
                    ++count;
                } else {
                    ++raced;
                }
            }
        }
        if (raced == 0) break;
    }
    auto left = CheckSealedKeys(true);
    if (!left) return std::move(left).error();
    return count;
}

Status ConnectorService::CheckSealedKeys(bool current_only) const {
    auto ids = store_.SealedKeyIds();
    if (!ids) return std::move(ids).error();
    std::string unreadable;
    std::int64_t values = 0;
    for (const auto& [id, n] : *ids) {
        const bool ok = current_only ? id == secrets_.current_key_id() : secrets_.HasKey(id);
        if (ok) continue;
        unreadable += (unreadable.empty() ? "" : ", ") + id;
        values += n;
    }
    if (values == 0) return Ok();
    if (current_only) {
        return Error::Invalid(std::to_string(values) + " datasource secret(s) are still sealed under master key(s) " +
                              unreadable + " (a server still running with the old key as its current key?); " +
                              "run `weft secrets rotate` again once every server runs with the new key");
    }
    return Error::Invalid(std::to_string(values) + " datasource secret(s) are sealed under master key(s) " +
                          unreadable + ", which this server was not given: start it with the current master key " +
                          "(WEFT_MASTER_KEY or master_key_file), and during a rotation with the previous one as " +
                          "old_master_key_file");
}

}  // namespace weft::connectors
