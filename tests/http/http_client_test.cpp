#include "http/http_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopback_server.h"

namespace weft::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using engine::HttpRequestEffect;
using engine::HttpResult;
using engine::TransportError;
using testing::kTuple;
using testing::LoopbackServer;

struct SeenRequest {
    std::string method;
    std::string target;
    std::string body;
    std::string authorization;
};

// A tiny HTTP/1.1 server on 127.0.0.1, port 0, on its own thread, with fixed routes.
class TestServer {
  public:
    std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
    std::uint16_t port() const { return loop_.port(); }
    std::vector<SeenRequest> seen() const {
        std::lock_guard lock(mu_);
        return seen_;
    }

  private:
    using Response = bhttp::response<bhttp::string_body>;

    asio::awaitable<void> Session(tcp::socket socket) {
        beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> req;
        auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kTuple);
        (void)n;
        if (ec) co_return;
        {
            std::lock_guard lock(mu_);
            seen_.push_back({std::string(req.method_string()), std::string(req.target()), req.body(),
                             std::string(req[bhttp::field::authorization])});
        }
        const std::string target(req.target());
        if (target == "/hang") {
            // Never answer: wait until the client gives up and closes the connection.
            bhttp::request<bhttp::string_body> next;
            co_await bhttp::async_read(socket, buffer, next, kTuple);
            co_return;
        }
        Response res = Route(req, target);
        res.version(11);
        res.keep_alive(false);
        res.prepare_payload();
        co_await bhttp::async_write(socket, res, kTuple);
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
    }

    Response Route(const bhttp::request<bhttp::string_body>& req, const std::string& target) const {
        Response res;
        res.result(bhttp::status::ok);
        auto redirect = [&res](int status, const std::string& location) {
            res.result(static_cast<unsigned>(status));
            res.set(bhttp::field::location, location);
        };
        if (target == "/json") {
            res.set(bhttp::field::content_type, "application/json");
            res.insert("X-First", "1");
            res.insert("X-Second", "2");
            res.insert("X-First", "3");
            res.body() = R"({"ok":true})";
        } else if (target == "/status/404") {
            res.result(bhttp::status::not_found);
            res.body() = "no such thing";
        } else if (target == "/status/500") {
            res.result(bhttp::status::internal_server_error);
            res.body() = "broken";
        } else if (target == "/429") {
            res.result(bhttp::status::too_many_requests);
            res.set(bhttp::field::retry_after, "7");
        } else if (target == "/echo" || target == "/r/target") {
            res.set("X-Seen-Header", std::string(req["X-Custom"]));
            res.body() = std::string(req.method_string()) + " " + req.body();
        } else if (target == "/r/relative") {
            redirect(302, "target");
        } else if (target == "/r/absolute") {
            redirect(301, Url("/r/target"));
        } else if (target == "/r/see-other") {
            redirect(303, "/r/target");
        } else if (target == "/r/temporary") {
            redirect(307, "/r/target");
        } else if (target == "/r/loop") {
            redirect(302, "/r/loop");
        } else if (target == "/r/private") {
            redirect(302, "http://127.0.0.2:" + std::to_string(port()) + "/r/target");
        } else if (target == "/r/other-host") {
            redirect(302, "http://localhost:" + std::to_string(port()) + "/r/target");
        } else if (target.starts_with("/big/")) {
            res.body() = std::string(std::stoul(target.substr(5)), 'x');
        } else {
            res.result(bhttp::status::not_found);
        }
        return res;
    }

    mutable std::mutex mu_;
    std::vector<SeenRequest> seen_;
    LoopbackServer loop_{[this](tcp::socket socket) { return Session(std::move(socket)); }};  // last: see its header
};

HttpResult SendAndWait(HttpClient& client, HttpRequestEffect request) {
    std::promise<HttpResult> promise;
    auto future = promise.get_future();
    client.Send(request, [&promise](HttpResult r) { promise.set_value(std::move(r)); });
    return future.get();
}

HttpRequestEffect Get(const std::string& url) {
    HttpRequestEffect r;
    r.method = "GET";
    r.url = url;
    r.timeout_ms = 10000;
    return r;
}

HttpClient::Options PrivateAllowed() {
    HttpClient::Options o;
    o.allow_private_network = true;
    return o;
}

std::vector<std::string> HeaderValues(const engine::HttpResponse& res, const std::string& name) {
    std::vector<std::string> values;
    for (const auto& [n, v] : res.headers) {
        if (n == name) values.push_back(v);
    }
    return values;
}

TEST(HttpClientTest, ReturnsStatusHeadersInOrderAndBody) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto r = SendAndWait(*client, Get(server.Url("/json")));
    ASSERT_EQ(r.error, TransportError::kNone) << r.error_message;
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->status, 200);
    EXPECT_EQ(r.response->body, R"({"ok":true})");
    EXPECT_EQ(HeaderValues(*r.response, "Content-Type"), std::vector<std::string>{"application/json"});
    EXPECT_EQ(HeaderValues(*r.response, "X-First"), (std::vector<std::string>{"1", "3"}));
    std::vector<std::string> names;
    for (const auto& h : r.response->headers) names.push_back(h.first);
    const auto first = std::find(names.begin(), names.end(), "X-First");
    const auto second = std::find(names.begin(), names.end(), "X-Second");
    EXPECT_LT(first, second);
}

TEST(HttpClientTest, SendsMethodHeadersAndBody) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get(server.Url("/echo"));
    request.method = "PUT";
    request.headers = {{"X-Custom", "hello"}, {"Content-Type", "text/plain"}};
    request.body = "payload";
    const auto r = SendAndWait(*client, request);
    ASSERT_TRUE(r.response) << r.error_message;
    EXPECT_EQ(r.response->body, "PUT payload");
    EXPECT_EQ(HeaderValues(*r.response, "X-Seen-Header"), std::vector<std::string>{"hello"});
}

TEST(HttpClientTest, ErrorStatusesAreResponsesNotTransportErrors) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto not_found = SendAndWait(*client, Get(server.Url("/status/404")));
    ASSERT_TRUE(not_found.response);
    EXPECT_EQ(not_found.error, TransportError::kNone);
    EXPECT_EQ(not_found.response->status, 404);
    EXPECT_EQ(not_found.response->body, "no such thing");
    const auto failed = SendAndWait(*client, Get(server.Url("/status/500")));
    ASSERT_TRUE(failed.response);
    EXPECT_EQ(failed.response->status, 500);
}

TEST(HttpClientTest, PassesRetryAfterThrough) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto r = SendAndWait(*client, Get(server.Url("/429")));
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->status, 429);
    EXPECT_EQ(HeaderValues(*r.response, "Retry-After"), std::vector<std::string>{"7"});
}

TEST(HttpClientTest, FollowsRelativeAndAbsoluteRedirects) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto relative = SendAndWait(*client, Get(server.Url("/r/relative")));
    ASSERT_TRUE(relative.response) << relative.error_message;
    EXPECT_EQ(relative.response->status, 200);
    EXPECT_EQ(relative.response->body, "GET ");
    const auto absolute = SendAndWait(*client, Get(server.Url("/r/absolute")));
    ASSERT_TRUE(absolute.response) << absolute.error_message;
    EXPECT_EQ(absolute.response->status, 200);
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[1].target, "/r/target");
    EXPECT_EQ(seen[3].target, "/r/target");
}

TEST(HttpClientTest, SeeOtherTurnsPostIntoGetWithoutBody) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get(server.Url("/r/see-other"));
    request.method = "POST";
    request.body = R"({"a":1})";
    request.headers = {{"Content-Type", "application/json"}};
    const auto r = SendAndWait(*client, request);
    ASSERT_TRUE(r.response) << r.error_message;
    EXPECT_EQ(r.response->body, "GET ");
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[1].method, "GET");
    EXPECT_EQ(seen[1].body, "");
}

TEST(HttpClientTest, TemporaryRedirectKeepsMethodAndBody) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get(server.Url("/r/temporary"));
    request.method = "POST";
    request.body = "data";
    const auto r = SendAndWait(*client, request);
    ASSERT_TRUE(r.response) << r.error_message;
    EXPECT_EQ(r.response->body, "POST data");
}

TEST(HttpClientTest, CredentialsDoNotFollowARedirectToAnotherHost) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get(server.Url("/r/other-host"));
    request.headers = {{"Authorization", "Bearer secret"}};
    const auto r = SendAndWait(*client, request);
    ASSERT_TRUE(r.response) << r.error_message;
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].authorization, "Bearer secret");
    EXPECT_EQ(seen[1].authorization, "");
}

TEST(HttpClientTest, RedirectLoopIsAnError) {
    TestServer server;
    auto options = PrivateAllowed();
    options.max_redirects = 3;
    auto client = HttpClient::Create(options);
    const auto r = SendAndWait(*client, Get(server.Url("/r/loop")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kBlocked);
    EXPECT_NE(r.error_message.find("too many redirects"), std::string::npos) << r.error_message;
    EXPECT_EQ(server.seen().size(), 4u);
}

TEST(HttpClientTest, ServerThatNeverAnswersTimesOut) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get(server.Url("/hang"));
    request.timeout_ms = 200;
    const auto r = SendAndWait(*client, request);
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kTimeout) << r.error_message;
}

TEST(HttpClientTest, LargeBodyWithinTheLimitIsReturned) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto r = SendAndWait(*client, Get(server.Url("/big/3000000")));
    ASSERT_TRUE(r.response) << r.error_message;
    EXPECT_EQ(r.response->body.size(), 3000000u);
}

TEST(HttpClientTest, BodyOverTheLimitIsAnError) {
    TestServer server;
    auto options = PrivateAllowed();
    options.max_response_bytes = 1024;
    auto client = HttpClient::Create(options);
    const auto r = SendAndWait(*client, Get(server.Url("/big/4096")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kBlocked);
    EXPECT_NE(r.error_message.find("larger than the limit"), std::string::npos) << r.error_message;
}

TEST(HttpClientTest, ClosedPortIsANetworkError) {
    std::uint16_t port = 0;
    {
        asio::io_context ioc;
        tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = acceptor.local_endpoint().port();
    }
    auto client = HttpClient::Create(PrivateAllowed());
    const auto r = SendAndWait(*client, Get("http://127.0.0.1:" + std::to_string(port) + "/"));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kNetwork);
    EXPECT_NE(r.error_message.find("cannot connect"), std::string::npos) << r.error_message;
}

TEST(HttpClientTest, GuardRefusesLoopbackUnlessPrivateNetworksAreAllowed) {
    TestServer server;
    auto client = HttpClient::Create(HttpClient::Options{});
    const auto r = SendAndWait(*client, Get(server.Url("/json")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kBlocked);
    EXPECT_NE(r.error_message.find("outbound address guard"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("loopback"), std::string::npos) << r.error_message;
    EXPECT_TRUE(server.seen().empty());
}

TEST(HttpClientTest, GuardChecksEveryRedirectHop) {
    TestServer server;
    HttpClient::Options options;
    options.allow_address = [](const std::string& ip) { return ip == "127.0.0.1"; };
    auto client = HttpClient::Create(options);
    const auto allowed = SendAndWait(*client, Get(server.Url("/json")));
    ASSERT_TRUE(allowed.response) << allowed.error_message;
    const auto r = SendAndWait(*client, Get(server.Url("/r/private")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kBlocked);
    EXPECT_NE(r.error_message.find("outbound address guard"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("127.0.0.2"), std::string::npos) << r.error_message;
}

TEST(HttpClientTest, HttpsToAServerWithoutTlsFailsTheHandshake) {
    TestServer server;
    auto client = HttpClient::Create(PrivateAllowed());
    const auto r = SendAndWait(*client, Get("https://127.0.0.1:" + std::to_string(server.port()) + "/json"));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kNetwork);
    EXPECT_NE(r.error_message.find("TLS handshake"), std::string::npos) << r.error_message;
}

TEST(HttpClientTest, RejectsOtherSchemesAndBadUrls) {
    auto client = HttpClient::Create(PrivateAllowed());
    const auto ftp = SendAndWait(*client, Get("ftp://example.com/file"));
    EXPECT_EQ(ftp.error, TransportError::kBlocked);
    EXPECT_NE(ftp.error_message.find("unsupported URL scheme \"ftp\""), std::string::npos) << ftp.error_message;
    const auto no_scheme = SendAndWait(*client, Get("example.com/path"));
    EXPECT_EQ(no_scheme.error, TransportError::kBlocked);
    const auto bad_port = SendAndWait(*client, Get("http://127.0.0.1:99999/"));
    EXPECT_EQ(bad_port.error, TransportError::kBlocked);
    EXPECT_NE(bad_port.error_message.find("invalid port"), std::string::npos) << bad_port.error_message;
}

TEST(HttpClientTest, RejectsHeaderInjection) {
    auto client = HttpClient::Create(PrivateAllowed());
    auto request = Get("http://127.0.0.1:1/");
    request.headers = {{"X-Evil", "a\r\nHost: other"}};
    const auto r = SendAndWait(*client, request);
    EXPECT_EQ(r.error, TransportError::kBlocked);
}

TEST(HttpClientTest, SendAfterShutdownFailsAtOnce) {
    auto client = HttpClient::Create(PrivateAllowed());
    client->Shutdown();
    client->Shutdown();
    const auto r = SendAndWait(*client, Get("http://127.0.0.1:1/"));
    EXPECT_EQ(r.error, TransportError::kNetwork);
}

}  // namespace
}  // namespace weft::http
