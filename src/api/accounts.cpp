#include "api/accounts.h"

#include "api/body.h"
#include "api/paging.h"
#include "api/views.h"

namespace weft::api {

Result<http::Response> ListAccounts(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    AccountFilter filter;
    if (const auto* v = ctx.req.Query("externalid")) filter.externalid = *v;
    if (const auto* v = ctx.req.Query("search")) filter.search = *v;
    auto page = deps.accounts.List(ctx.partner.app_id, filter, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page,
                         [](const Account& a) { return AccountView(a); });
}

Result<http::Response> CreateAccount(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadAccountInput(*body);
    if (!input) return std::move(input).error();
    // `datasource` (alias `credentials`): the partner-connector credentials, checked before anything is created.
    const json::object* credentials = nullptr;
    for (const char* key : {"datasource", "credentials"}) {
        if (const auto* v = body->if_contains(key); v != nullptr && v->is_object()) credentials = &v->get_object();
    }
    if (credentials != nullptr && !deps.connectors) return Error::Invalid("Datasources are not available.");
    if (credentials != nullptr) {
        if (auto r = deps.connectors->CheckPartnerCredentials(ctx.partner.app_id, *credentials); !r) {
            return std::move(r).error();
        }
    }
    auto account = deps.accounts.Create(ctx.partner.app_id, *input);
    if (!account) return std::move(account).error();
    if (credentials != nullptr) {
        if (auto r = deps.connectors->SetPartnerCredentials(ctx.partner.app_id, *account, *credentials); !r) {
            return std::move(r).error();
        }
    }
    return JsonBody(200, AccountView(*account));
}

Result<http::Response> GetAccount(ApiDeps&, CallContext& ctx) { return JsonBody(200, AccountView(*ctx.account)); }

Result<http::Response> UpdateAccount(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadAccountInput(*body);
    if (!input) return std::move(input).error();
    auto account = deps.accounts.Update(ctx.partner.app_id, *ctx.account, *input);
    if (!account) return std::move(account).error();
    return JsonBody(200, AccountView(*account));
}

Result<http::Response> ExpireAccount(ApiDeps& deps, CallContext& ctx) {
    auto account = deps.accounts.Expire(ctx.partner.app_id, *ctx.account);
    if (!account) return std::move(account).error();
    return JsonBody(200, AccountView(*account));
}

Result<http::Response> DeleteAccount(ApiDeps& deps, CallContext& ctx) {
    // Its queued runs vanish with it and its running runs are told to stop (API.md section 6): read them first
    // so that their sync callers get an answer and their workers stop at once rather than at the next boundary.
    auto active = deps.store.ListActiveRuns(ctx.partner.app_id, ctx.account->id);
    if (!active) return std::move(active).error();
    if (auto r = deps.accounts.Delete(ctx.partner.app_id, *ctx.account); !r) return std::move(r).error();
    if (deps.runs) deps.runs->Abandoned(*active);
    return NoContent();
}

Result<http::Response> ListUsers(ApiDeps& deps, CallContext& ctx) {
    auto paging = ParsePaging(ctx.req);
    if (!paging) return std::move(paging).error();
    auto page = deps.accounts.ListUsers(ctx.partner.app_id, *ctx.account, paging->AsRequest());
    if (!page) return std::move(page).error();
    return PagedResponse(ctx.req, BaseUrl(ctx.req, deps.public_url), *paging, *page,
                         [](const User& u) { return UserView(u); });
}

Result<http::Response> CreateUser(ApiDeps& deps, CallContext& ctx) {
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadUserInput(*body);
    if (!input) return std::move(input).error();
    auto user = deps.accounts.CreateUser(ctx.partner.app_id, *ctx.account, *input);
    if (!user) return std::move(user).error();
    return JsonBody(200, UserView(*user));
}

namespace {

Result<User> PathUser(ApiDeps& deps, CallContext& ctx) {
    return deps.accounts.FindUser(ctx.partner.app_id, *ctx.account, ctx.params.at("user"));
}

}  // namespace

Result<http::Response> GetUser(ApiDeps& deps, CallContext& ctx) {
    auto user = PathUser(deps, ctx);
    if (!user) return std::move(user).error();
    return JsonBody(200, UserView(*user));
}

Result<http::Response> UpdateUser(ApiDeps& deps, CallContext& ctx) {
    auto user = PathUser(deps, ctx);
    if (!user) return std::move(user).error();
    auto body = ReadJsonObject(ctx.req);
    if (!body) return std::move(body).error();
    auto input = ReadUserInput(*body);
    if (!input) return std::move(input).error();
    auto updated = deps.accounts.UpdateUser(ctx.partner.app_id, *ctx.account, *user, *input);
    if (!updated) return std::move(updated).error();
    return JsonBody(200, UserView(*updated));
}

Result<http::Response> DeleteUser(ApiDeps& deps, CallContext& ctx) {
    auto user = PathUser(deps, ctx);
    if (!user) return std::move(user).error();
    if (auto r = deps.accounts.DeleteUser(ctx.partner.app_id, *ctx.account, *user); !r) return std::move(r).error();
    return NoContent();
}

}  // namespace weft::api
