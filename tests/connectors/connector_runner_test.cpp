#include "jobs/connector_runner.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/builtin.h"
#include "http/http_client.h"

namespace weft::jobs {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

// A local HTTP/1.1 server on 127.0.0.1, port 0, answering with a handler; records every request.
class LocalServer {
  public:
    using Handler = std::function<Response(const Request&)>;
    explicit LocalServer(Handler handler)
        : handler_(std::move(handler)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(ioc_, Accept(), [](std::exception_ptr) {});
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~LocalServer() {
        ioc_.stop();
        thread_.join();
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<Request> seen() const {
        std::lock_guard lock(mu_);
        return seen_;
    }
    int count(const std::string& path_prefix) const {
        int n = 0;
        for (const auto& r : seen()) n += std::string(r.target()).rfind(path_prefix, 0) == 0 ? 1 : 0;
        return n;
    }

  private:
    asio::awaitable<void> Accept() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            asio::co_spawn(ioc_, Session(std::move(socket)), [](std::exception_ptr) {});
        }
    }
    asio::awaitable<void> Session(tcp::socket socket) {
        beast::flat_buffer buffer;
        Request req;
        auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kTuple);
        (void)n;
        if (ec) co_return;
        {
            std::lock_guard lock(mu_);
            seen_.push_back(req);
        }
        Response res = handler_(req);
        res.version(11);
        res.keep_alive(false);
        res.prepare_payload();
        co_await bhttp::async_write(socket, res, kTuple);
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
    }

    Handler handler_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    mutable std::mutex mu_;
    std::vector<Request> seen_;
};

Response JsonResponse(int status, std::string body) {
    Response r;
    r.result(static_cast<unsigned>(status));
    r.set(bhttp::field::content_type, "application/json");
    r.body() = std::move(body);
    return r;
}

class InlineRuntime final : public AsyncRuntime {
  public:
    void Post(std::function<void()> fn) override { fn(); }
    std::shared_ptr<Timer> After(std::chrono::microseconds, std::function<void()>) override {
        ADD_FAILURE() << "the connector runner does not use timers";
        return nullptr;
    }
};

class FixedClock final : public Clock {
  public:
    Micros Now() const override { return now; }
    Micros now = 1'800'000'000'000'000;
};

// Connectors: the built-in ones plus test definitions; datasources in memory.
class FakeDirectory final : public connectors::ConnectorDirectory {
  public:
    void Add(const std::string& guid, const std::string& json_def) {
        auto def = connectors::ParseConnectorDef(*ParseJson(json_def));
        ASSERT_TRUE(def.ok());
        extra_.push_back({guid, std::make_shared<const connectors::ConnectorDef>(std::move(*def))});
    }
    Result<connectors::ConnectorRef> FindConnector(std::int64_t, std::string_view key) override {
        if (const auto* c = builtin_.Find(key)) return *c;
        for (const auto& c : extra_) {
            if (c.guid == key || c.def->key == key) return c;
        }
        return Error::NotFound("connector");
    }
    Result<connectors::ResolvedDatasource> FindDatasource(std::int64_t partner, std::int64_t account,
                                                          std::string_view guid) override {
        std::lock_guard lock(mu_);
        if (partner != 1 || account != 7) return Error::NotFound("datasource");
        auto it = datasources.find(std::string(guid));
        if (it == datasources.end()) return Error::NotFound("datasource");
        return it->second;
    }
    Status SaveTokens(std::int64_t, std::int64_t, std::string_view guid, const connectors::OAuthTokens& t) override {
        std::lock_guard lock(mu_);
        datasources[std::string(guid)].tokens = t;
        ++saved;
        return Ok();
    }
    Status MarkDisconnected(std::int64_t, std::int64_t, std::string_view guid) override {
        std::lock_guard lock(mu_);
        datasources[std::string(guid)].connected = false;
        return Ok();
    }
    std::string Guid(std::string_view key) { return FindConnector(1, key)->guid; }

    std::map<std::string, connectors::ResolvedDatasource> datasources;
    int saved = 0;

  private:
    connectors::BuiltinConnectors builtin_;
    std::vector<connectors::ConnectorRef> extra_;
    std::mutex mu_;
};

class ConnectorRunnerTest : public ::testing::Test {
  protected:
    ConnectorRunnerTest() {
        http::HttpClient::Options options;
        options.allow_private_network = true;
        client_ = http::HttpClient::Create(options);
        runner_ = std::make_unique<ConnectorRunner>(directory_, *client_, runtime_, clock_);
    }

    void AddDatasource(const std::string& guid, const std::string& connector_key, const std::string& params,
                       connectors::OAuthTokens tokens = {}) {
        connectors::ResolvedDatasource ds;
        ds.guid = guid;
        ds.connector_guid = directory_.Guid(connector_key);
        ds.params = ParseJson(params)->as_object();
        ds.tokens = std::move(tokens);
        directory_.datasources[guid] = ds;
    }

    engine::HttpResult Call(const std::string& connector, const std::string& endpoint, const std::string& datasource,
                            const std::string& params = "{}") {
        engine::ConnectorEffect e;
        e.block_id = "b";
        e.connector = connector;
        e.endpoint = endpoint;
        e.datasource = datasource;
        e.params = ParseJson(params)->as_object();
        e.timeout_ms = 5000;
        std::promise<engine::HttpResult> p;
        runner_->Run(1, 7, e, [&p](engine::HttpResult r) { p.set_value(std::move(r)); });
        return p.get_future().get();
    }

    FakeDirectory directory_;
    InlineRuntime runtime_;
    FixedClock clock_;
    std::unique_ptr<http::HttpClient> client_;
    std::unique_ptr<ConnectorRunner> runner_;
};

std::string Auth(const Request& r) { return std::string(r[bhttp::field::authorization]); }

TEST_F(ConnectorRunnerTest, ApiKeyInTheQueryAndMaskedInTheLog) {
    LocalServer server([](const Request& r) {
        return std::string(r.target()) == "/v1/things?key=k%201" ? JsonResponse(200, R"({"id":1})")
                                                                 : JsonResponse(401, R"({"error":"bad key"})");
    });
    directory_.Add("0190aaaa-0000-7000-8000-000000000001", R"({"key": "qkey", "name": "Query key",
      "base_url": "{base_url}/v1", "error_message_path": "error",
      "authentication": {"type": "api_key", "in": "query", "name": "key", "param": "api_key"},
      "params": [{"name": "base_url", "type": "string", "required": true},
                 {"name": "api_key", "type": "password", "required": true}],
      "endpoints": [{"key": "things", "path": "/things", "result_path": "id"}]})");
    AddDatasource("ds1", "qkey", R"({"base_url": ")" + server.base() + R"(", "api_key": "k 1"})");
    auto r = Call("qkey", "things", "ds1");
    ASSERT_EQ(r.error, engine::TransportError::kNone) << r.error_message;
    ASSERT_TRUE(r.mapped.has_value());
    EXPECT_EQ(r.mapped->as_int64(), 1);
    ASSERT_TRUE(r.request.has_value());
    const std::string logged = ToJson(*r.request);
    EXPECT_EQ(logged.find("k%201"), std::string::npos);
    EXPECT_NE(logged.find("key=%2A%2A%2A%2A%2A%2A%2A%2A"), std::string::npos);

    directory_.datasources["ds1"].params["api_key"] = "wrong";
    auto denied = Call("qkey", "things", "ds1");
    ASSERT_TRUE(denied.response.has_value());
    EXPECT_EQ(denied.response->status, 401);
    EXPECT_EQ(denied.error_message,
              "Query key (things) answered HTTP 401 (check the datasource's credentials and permissions): bad key");
}

TEST_F(ConnectorRunnerTest, BearerBasicAndHeaderKeys) {
    LocalServer server([](const Request& r) {
        return JsonResponse(200, "{\"auth\":\"" + Auth(r) + "\",\"key\":\"" + std::string(r["X-API-Key"]) + "\"}");
    });
    AddDatasource("bearer", "rest", R"({"base_url": ")" + server.base() + R"(", "token": "t0k"})");
    AddDatasource("basic", "rest_basic",
                  R"({"base_url": ")" + server.base() + R"(", "username": "ann", "password": "pw"})");
    AddDatasource("hdr", "rest_api_key", R"({"base_url": ")" + server.base() + R"(", "api_key": "abc"})");
    auto bearer = Call("rest", "get", "bearer", R"({"path": "me"})");
    ASSERT_TRUE(bearer.response.has_value()) << bearer.error_message;
    EXPECT_NE(bearer.response->body.find("Bearer t0k"), std::string::npos);
    auto basic = Call("rest_basic", "get", "basic", R"({"path": "me"})");
    ASSERT_TRUE(basic.response.has_value());
    EXPECT_NE(basic.response->body.find("Basic YW5uOnB3"), std::string::npos);
    auto hdr = Call("rest_api_key", "get", "hdr", R"({"path": "me"})");
    ASSERT_TRUE(hdr.response.has_value());
    EXPECT_NE(hdr.response->body.find("\"key\":\"abc\""), std::string::npos);
    EXPECT_EQ(ToJson(*hdr.request).find("abc"), std::string::npos);
}

TEST_F(ConnectorRunnerTest, ClientCredentialsTokenFetchedOnceAndReused) {
    LocalServer server([](const Request& r) {
        const std::string target(r.target());
        if (target == "/token") {
            if (Auth(r) != "Basic aWQ6c2VjcmV0" || r.body() != "grant_type=client_credentials") {
                return JsonResponse(401, R"({"error":"invalid_client"})");
            }
            return JsonResponse(200, R"({"access_token":"cc1","token_type":"bearer","expires_in":3600})");
        }
        return Auth(r) == "Bearer cc1" ? JsonResponse(200, R"({"ok":true})") : JsonResponse(401, "{}");
    });
    AddDatasource("cc", "rest_oauth2_client",
                  R"({"base_url": ")" + server.base() + R"(", "token_url": ")" + server.base() +
                      R"(/token", "client_id": "id", "client_secret": "secret"})");
    for (int i = 0; i < 2; ++i) {
        auto r = Call("rest_oauth2_client", "get", "cc", R"({"path": "x"})");
        ASSERT_TRUE(r.response.has_value()) << r.error_message;
        EXPECT_EQ(r.response->status, 200);
        EXPECT_EQ(ToJson(*r.request).find("cc1"), std::string::npos);
    }
    EXPECT_EQ(server.count("/token"), 1);
    EXPECT_EQ(directory_.datasources["cc"].tokens.access_token, "cc1");
}

constexpr const char* kThreeLegged = R"({"key": "three", "name": "Three", "base_url": "{base_url}",
  "authentication": {"type": "oAuth2 3-legged", "authorize_url": "{base_url}/authorize",
                     "token_url": "{base_url}/token"},
  "params": [{"name": "base_url", "type": "string", "required": true},
             {"name": "client_id", "type": "string", "required": true},
             {"name": "client_secret", "type": "password", "required": true}],
  "endpoints": [{"key": "me", "path": "/me"}]})";

// An authorization server whose current access token is `a2`, reached with the refresh token `r1`.
Response ThreeLeggedServer(const Request& r) {
    const std::string target(r.target());
    if (target == "/token") {
        if (r.body().find("grant_type=refresh_token&refresh_token=r1") != 0) {
            return JsonResponse(400, R"({"error":"invalid_grant","error_description":"revoked"})");
        }
        return JsonResponse(200, R"({"access_token":"a2","expires_in":3600})");
    }
    return Auth(r) == "Bearer a2" ? JsonResponse(200, R"({"me":1})") : JsonResponse(401, R"({"error":"expired"})");
}

TEST_F(ConnectorRunnerTest, AuthorizationCodeRefreshesBeforeExpiry) {
    LocalServer server(ThreeLeggedServer);
    directory_.Add("0190aaaa-0000-7000-8000-000000000003", kThreeLegged);
    AddDatasource("oa", "three", R"({"base_url": ")" + server.base() + R"(", "client_id": "c", "client_secret": "s"})",
                  {"a1", "r1", clock_.now + 30'000'000});  // expires in 30 s: refreshed first
    auto r = Call("three", "me", "oa");
    ASSERT_TRUE(r.response.has_value()) << r.error_message;
    EXPECT_EQ(r.response->status, 200);
    EXPECT_EQ(server.count("/token"), 1);
    EXPECT_EQ(server.count("/me"), 1);
    EXPECT_EQ(directory_.datasources["oa"].tokens.access_token, "a2");
    EXPECT_EQ(directory_.datasources["oa"].tokens.refresh_token, "r1");
}

TEST_F(ConnectorRunnerTest, AuthorizationCodeRefreshesOnceOnA401) {
    LocalServer server(ThreeLeggedServer);
    directory_.Add("0190aaaa-0000-7000-8000-000000000003", kThreeLegged);
    AddDatasource("oa", "three", R"({"base_url": ")" + server.base() + R"(", "client_id": "c", "client_secret": "s"})",
                  {"stale", "r1", std::nullopt});
    auto r = Call("three", "me", "oa");
    ASSERT_TRUE(r.response.has_value()) << r.error_message;
    EXPECT_EQ(r.response->status, 200);
    EXPECT_EQ(server.count("/me"), 2);
    EXPECT_EQ(server.count("/token"), 1);
}

TEST_F(ConnectorRunnerTest, ARevokedRefreshTokenDisconnectsTheDatasource) {
    LocalServer server(ThreeLeggedServer);
    directory_.Add("0190aaaa-0000-7000-8000-000000000003", kThreeLegged);
    AddDatasource("oa", "three", R"({"base_url": ")" + server.base() + R"(", "client_id": "c", "client_secret": "s"})",
                  {"stale", "gone", std::nullopt});
    auto r = Call("three", "me", "oa");
    EXPECT_EQ(r.error, engine::TransportError::kBlocked);
    EXPECT_NE(r.error_message.find("authorisation was revoked"), std::string::npos) << r.error_message;
    EXPECT_FALSE(directory_.datasources["oa"].connected);
    auto again = Call("three", "me", "oa");
    EXPECT_NE(again.error_message.find("not connected"), std::string::npos) << again.error_message;
    EXPECT_EQ(server.count("/me"), 1);  // a disconnected datasource is not called at all
}

TEST_F(ConnectorRunnerTest, LinkHeaderPaginationAgainstALocalServer) {
    std::string base;
    LocalServer server([&base](const Request& r) {
        const std::string target(r.target());
        Response res = JsonResponse(200, target.find("page=3") != std::string::npos   ? "[5]"
                                         : target.find("page=2") != std::string::npos ? "[3,4]"
                                                                                      : "[1,2]");
        if (target.find("page=3") == std::string::npos) {
            const std::string next = target.find("page=2") != std::string::npos ? "3" : "2";
            res.set(bhttp::field::link, "<" + base + "/items?page=" + next + ">; rel=\"next\"");
        }
        return res;
    });
    base = server.base();
    AddDatasource("r", "rest", R"({"base_url": ")" + server.base() + R"("})");
    auto r = Call("rest", "list_links", "r", R"({"path": "items"})");
    ASSERT_TRUE(r.mapped.has_value()) << r.error_message;
    EXPECT_EQ(ToJson(*r.mapped), "[1,2,3,4,5]");
    EXPECT_EQ(server.count("/items"), 3);
}

TEST_F(ConnectorRunnerTest, ConfigurationMistakesAreClearAndNotRetried) {
    AddDatasource("gh", "github", R"({"token": "t"})");
    auto unknown = Call("nope", "x", "gh");
    EXPECT_EQ(unknown.error, engine::TransportError::kBlocked);
    EXPECT_EQ(unknown.error_message, "connector: there is no connector 'nope'");
    auto missing = Call("github", "list_repos", "");
    EXPECT_EQ(missing.error_message, "datasource: the GitHub connector needs a datasource with its credentials");
    auto other = Call("stripe", "list_customers", "gh");
    EXPECT_EQ(other.error_message, "datasource: the datasource 'gh' is not a Stripe datasource");
    auto absent = Call("github", "list_repos", "missing");
    EXPECT_EQ(absent.error_message, "datasource: there is no datasource 'missing' in this account");
}

}  // namespace
}  // namespace weft::jobs
