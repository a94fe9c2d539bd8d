// The outbound client over TLS against local servers whose certificates come from a CA made when the test runs
// (test_pki.h) and trusted through HttpClient::Options::extra_ca_file.

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http_client.h"
#include "loopback_server.h"
#include "support/temp_dir.h"
#include "test_pki.h"

namespace weft::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using engine::HttpRequestEffect;
using engine::HttpResult;
using engine::TransportError;
using testing::kTuple;
using testing::LoopbackServer;
using testing::TestCa;
using testing::TestCertificate;

struct SeenRequest {
    std::string server_name;  // SNI sent by the client
    std::string method;
    std::string target;
    std::string body;
};

// An HTTPS server on 127.0.0.1, port 0, on its own thread, presenting `certificate`.
//   /echo: "<METHOD> <body>"; /json: {"secure":true}; /redirect?<status>&<url>: that redirect.
class TlsServer {
  public:
    explicit TlsServer(const TestCertificate& certificate) : tls_(ServerContext(certificate)) {}

    std::string Url(const std::string& host, const std::string& path) const {
        return "https://" + host + ":" + std::to_string(loop_.port()) + path;
    }
    std::vector<SeenRequest> seen() const {
        std::lock_guard lock(mu_);
        return seen_;
    }
    int failed_handshakes() const {
        std::lock_guard lock(mu_);
        return failed_handshakes_;
    }
    // The server learns of a refused handshake a moment after the client gave up: waits (up to 10 s) until it has
    // counted `n`, and returns its count.
    int WaitForFailedHandshakes(int n) const {
        for (int i = 0; i < 1000 && failed_handshakes() < n; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return failed_handshakes();
    }

  private:
    using Response = bhttp::response<bhttp::string_body>;

    static ssl::context ServerContext(const TestCertificate& certificate) {
        ssl::context tls(ssl::context::tls_server);
        tls.use_certificate_chain(asio::buffer(certificate.cert_pem));
        tls.use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem);
        return tls;
    }

    asio::awaitable<void> Session(tcp::socket socket) {
        beast::ssl_stream<tcp::socket> stream(std::move(socket), tls_);
        auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
        if (handshake_ec) {
            std::lock_guard lock(mu_);
            ++failed_handshakes_;
            co_return;
        }
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> req;
        auto [read_ec, n] = co_await bhttp::async_read(stream, buffer, req, kTuple);
        (void)n;
        if (read_ec) co_return;
        const std::string target(req.target());
        {
            std::lock_guard lock(mu_);
            seen_.push_back({sni != nullptr ? sni : "", std::string(req.method_string()), target, req.body()});
        }
        Response res;
        res.version(11);
        res.keep_alive(false);
        if (target == "/echo") {
            res.body() = std::string(req.method_string()) + " " + req.body();
        } else if (target == "/json") {
            res.set(bhttp::field::content_type, "application/json");
            res.body() = R"({"secure":true})";
        } else if (target.starts_with("/redirect?")) {
            const auto amp = target.find('&');
            res.result(static_cast<unsigned>(std::stoi(target.substr(10, amp - 10))));
            res.set(bhttp::field::location, target.substr(amp + 1));
        } else {
            res.result(bhttp::status::not_found);
        }
        res.prepare_payload();
        co_await bhttp::async_write(stream, res, kTuple);
        co_await stream.async_shutdown(kTuple);
    }

    ssl::context tls_;
    mutable std::mutex mu_;
    std::vector<SeenRequest> seen_;
    int failed_handshakes_ = 0;
    LoopbackServer loop_{[this](tcp::socket socket) { return Session(std::move(socket)); }};  // last: see its header
};

// One CA per test binary run: key generation is the slow part.
const TestCa& TrustedCa() {
    static const TestCa ca("Weft Test CA");
    return ca;
}

class HttpClientTlsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::ofstream(ca_file_) << TrustedCa().cert_pem();
        HttpClient::Options options;
        options.allow_private_network = true;
        options.extra_ca_file = ca_file_;
        client_ = HttpClient::Create(options);
    }

    HttpResult Send(HttpRequestEffect request) {
        std::promise<HttpResult> promise;
        auto future = promise.get_future();
        client_->Send(request, [&promise](HttpResult r) { promise.set_value(std::move(r)); });
        return future.get();
    }

    static HttpRequestEffect Request(const std::string& method, const std::string& url, std::string body = {}) {
        HttpRequestEffect r;
        r.method = method;
        r.url = url;
        r.body = std::move(body);
        r.timeout_ms = 10000;
        return r;
    }

    weft::testing::TempDir dir_;
    std::string ca_file_ = dir_.File("ca.pem");
    std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpClientTlsTest, GetAndPostOverHttpsWithATrustedCertificate) {
    TlsServer server(TrustedCa().IssueServerCertificate({"localhost"}));
    const auto get = Send(Request("GET", server.Url("localhost", "/json")));
    ASSERT_EQ(get.error, TransportError::kNone) << get.error_message;
    ASSERT_TRUE(get.response);
    EXPECT_EQ(get.response->status, 200);
    EXPECT_EQ(get.response->body, R"({"secure":true})");

    const auto post = Send(Request("POST", server.Url("localhost", "/echo"), R"({"a":1})"));
    ASSERT_TRUE(post.response) << post.error_message;
    EXPECT_EQ(post.response->status, 200);
    EXPECT_EQ(post.response->body, R"(POST {"a":1})");

    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].server_name, "localhost");  // SNI, so virtual hosts pick the right certificate
    EXPECT_EQ(seen[1].body, R"({"a":1})");
}

TEST_F(HttpClientTlsTest, CertificateForAnotherHostNameIsRefused) {
    TlsServer server(TrustedCa().IssueServerCertificate({"other.example"}));
    const auto r = Send(Request("GET", server.Url("localhost", "/json")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kNetwork);
    EXPECT_NE(r.error_message.find("TLS handshake with localhost:"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate was refused (hostname mismatch)"), std::string::npos)
        << r.error_message;
    EXPECT_TRUE(server.seen().empty());
}

TEST_F(HttpClientTlsTest, IpAddressHostsAreCheckedAgainstTheCertificatesAddresses) {
    TlsServer named_only(TrustedCa().IssueServerCertificate({"localhost"}));
    const auto refused = Send(Request("GET", named_only.Url("127.0.0.1", "/json")));
    EXPECT_FALSE(refused.response);
    EXPECT_NE(refused.error_message.find("certificate was refused (IP address mismatch)"), std::string::npos)
        << refused.error_message;

    TlsServer with_ip(TrustedCa().IssueServerCertificate({"localhost"}, {"127.0.0.1"}));
    const auto ok = Send(Request("GET", with_ip.Url("127.0.0.1", "/json")));
    ASSERT_TRUE(ok.response) << ok.error_message;
    EXPECT_EQ(ok.response->status, 200);
}

TEST_F(HttpClientTlsTest, CertificateFromAnUntrustedAuthorityIsRefused) {
    const TestCa stranger("Unknown CA");
    TlsServer server(stranger.IssueServerCertificate({"localhost"}));
    const auto r = Send(Request("GET", server.Url("localhost", "/json")));
    EXPECT_FALSE(r.response);
    EXPECT_EQ(r.error, TransportError::kNetwork);
    EXPECT_NE(r.error_message.find("certificate was refused (unable to get local issuer certificate)"),
              std::string::npos)
        << r.error_message;
    EXPECT_TRUE(server.seen().empty());
    EXPECT_EQ(server.WaitForFailedHandshakes(1), 1);
}

TEST_F(HttpClientTlsTest, WithoutTheExtraCaOnlyTheSystemStoreIsTrusted) {
    TlsServer server(TrustedCa().IssueServerCertificate({"localhost"}));
    HttpClient::Options options;
    options.allow_private_network = true;
    client_ = HttpClient::Create(options);
    const auto r = Send(Request("GET", server.Url("localhost", "/json")));
    EXPECT_FALSE(r.response);
    EXPECT_NE(r.error_message.find("certificate was refused (unable to get local issuer certificate)"),
              std::string::npos)
        << r.error_message;
}

TEST_F(HttpClientTlsTest, RedirectsFromHttpsToHttpsOnAnotherServer) {
    TlsServer first(TrustedCa().IssueServerCertificate({"localhost"}));
    TlsServer second(TrustedCa().IssueServerCertificate({"localhost"}));
    const auto found =
        Send(Request("GET", first.Url("localhost", "/redirect?302&" + second.Url("localhost", "/json"))));
    ASSERT_TRUE(found.response) << found.error_message;
    EXPECT_EQ(found.response->status, 200);
    EXPECT_EQ(found.response->body, R"({"secure":true})");

    // 307 keeps the method and the body across the hop.
    const auto temporary =
        Send(Request("POST", first.Url("localhost", "/redirect?307&" + second.Url("localhost", "/echo")), "data"));
    ASSERT_TRUE(temporary.response) << temporary.error_message;
    EXPECT_EQ(temporary.response->body, "POST data");
    ASSERT_EQ(first.seen().size(), 2u);
    ASSERT_EQ(second.seen().size(), 2u);
    EXPECT_EQ(second.seen()[1].body, "data");
}

TEST_F(HttpClientTlsTest, RedirectToAServerWithTheWrongCertificateIsRefused) {
    TlsServer first(TrustedCa().IssueServerCertificate({"localhost"}));
    TlsServer impostor(TrustedCa().IssueServerCertificate({"other.example"}));
    const auto r = Send(Request("GET", first.Url("localhost", "/redirect?302&" + impostor.Url("localhost", "/json"))));
    EXPECT_FALSE(r.response);
    EXPECT_NE(r.error_message.find("hostname mismatch"), std::string::npos) << r.error_message;
    EXPECT_TRUE(impostor.seen().empty());
}

TEST(HttpClientTlsOptionsTest, UnreadableExtraCaFileIsAStartupError) {
    weft::testing::TempDir dir;
    HttpClient::Options missing;
    missing.extra_ca_file = dir.File("missing.pem");
    try {
        HttpClient::Create(missing);
        ADD_FAILURE() << "Create accepted a missing CA file";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot load the CA certificates of " + missing.extra_ca_file),
                  std::string::npos)
            << e.what();
    }

    HttpClient::Options not_pem;
    not_pem.extra_ca_file = dir.File("not.pem");
    std::ofstream(not_pem.extra_ca_file) << "not a certificate\n";
    EXPECT_THROW(HttpClient::Create(not_pem), std::runtime_error);
}

}  // namespace
}  // namespace weft::http
