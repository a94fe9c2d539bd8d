#include "http/http_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/address_guard.h"

namespace weft::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using engine::HeaderList;
using engine::HttpResult;
using engine::TransportError;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

struct Config {
    explicit Config(HttpClient::Options o) : options(std::move(o)) {
        tls.set_default_verify_paths();
        if (!options.extra_ca_file.empty()) {
            beast::error_code ec;
            tls.load_verify_file(options.extra_ca_file, ec);
            if (ec) {
                throw std::runtime_error("cannot load the CA certificates of " + options.extra_ca_file + ": " +
                                         ec.message());
            }
        }
        tls.set_verify_mode(ssl::verify_peer);
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    }
    HttpClient::Options options;
    ssl::context tls{ssl::context::tls_client};
};

struct Url {
    bool https = false;
    std::string host;  // lower case, IPv6 without brackets
    std::uint16_t port = 80;
    std::string target;  // path and query, never empty
};

struct ParsedUrl {
    std::optional<Url> url;
    std::string error;
};

HttpResult Failure(TransportError error, std::string message) {
    HttpResult r;
    r.error = error;
    r.error_message = std::move(message);
    return r;
}

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

bool IEquals(std::string_view a, std::string_view b) { return a.size() == b.size() && Lower(a) == Lower(b); }

bool HasControlOrSpace(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
    });
}

bool HasLineBreakOrNul(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

ParsedUrl ParseUrl(std::string_view text) {
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) return {std::nullopt, "bad URL \"" + std::string(text) + "\": no scheme"};
    const std::string scheme = Lower(text.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
        return {std::nullopt, "unsupported URL scheme \"" + scheme + "\" (only http and https are allowed)"};
    }
    Url url;
    url.https = scheme == "https";
    url.port = url.https ? 443 : 80;
    const std::string_view rest = text.substr(sep + 3);
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) {
        return {std::nullopt, "credentials in the URL are not supported (use a datasource or an Authorization header)"};
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return {std::nullopt, "bad URL: unterminated IPv6 address"};
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return {std::nullopt, "bad URL: unexpected text after the IPv6 address"};
            port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return {std::nullopt, "bad URL \"" + std::string(text) + "\": no host"};
    if (HasControlOrSpace(host)) return {std::nullopt, "bad URL: the host contains spaces or control characters"};
    if (!port.empty()) {
        if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return {std::nullopt, "bad URL: invalid port \"" + std::string(port) + "\""};
        }
        const int n = std::stoi(std::string(port));
        if (n < 1 || n > 65535) return {std::nullopt, "bad URL: invalid port \"" + std::string(port) + "\""};
        url.port = static_cast<std::uint16_t>(n);
    }
    url.host = Lower(host);
    if (const auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
    if (HasControlOrSpace(tail)) return {std::nullopt, "bad URL: the path contains spaces or control characters"};
    url.target = tail.empty() || tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
    return {std::move(url), {}};
}

std::string HostForUrl(const Url& url) {
    return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

std::string HostHeader(const Url& url) {
    const bool default_port = url.port == (url.https ? 443 : 80);
    return default_port ? HostForUrl(url) : HostForUrl(url) + ":" + std::to_string(url.port);
}

std::string Origin(const Url& url) {
    return std::string(url.https ? "https://" : "http://") + HostForUrl(url) + ":" + std::to_string(url.port);
}

// Resolves a Location header against the URL that answered with it (RFC 3986 section 5.2, without removing
// dot segments: servers resolve those).
ParsedUrl ResolveLocation(const Url& base, std::string_view location) {
    const auto first_delim = location.find_first_of(":/?#");
    if (first_delim != std::string_view::npos && location[first_delim] == ':' && first_delim > 0) {
        return ParseUrl(location);
    }
    if (location.starts_with("//"))
        return ParseUrl(std::string(base.https ? "https:" : "http:") + std::string(location));
    const std::string origin = Origin(base);
    const std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
    if (location.empty() || location.front() == '#') return ParseUrl(origin + base.target);
    if (location.front() == '/') return ParseUrl(origin + std::string(location));
    if (location.front() == '?') return ParseUrl(origin + std::string(base_path) + std::string(location));
    const std::string_view directory = base_path.substr(0, base_path.rfind('/') + 1);
    return ParseUrl(origin + std::string(directory) + std::string(location));
}

bool IsRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool AddressAllowed(const Config& config, const std::string& ip) {
    if (config.options.allow_private_network) return true;
    if (config.options.allow_address) return config.options.allow_address(ip);
    return IsPublicAddress(ip);
}

bool TimedOut(const beast::error_code& ec, Clock::time_point deadline) {
    return ec == beast::error::timeout || Clock::now() >= deadline;
}

// Sends `host` as the server name (SNI; not for IP addresses) and makes certificate verification check that
// the certificate names it: OpenSSL's own check (RFC 6125: DNS names, or IP addresses for IP hosts; no partial
// wildcards), which reports a mismatch as its own verify error so the failure says what was wrong.
bool ExpectPeer(SSL* ssl, const std::string& host) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (ClassifyAddress(host) != AddressClass::kInvalid) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    // SSL_set_tlsext_host_name is a macro with an old-style cast; OpenSSL copies the name.
    return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) ==
               1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
}

template <class Stream>
asio::awaitable<HttpResult> RoundTrip(Stream stream, std::shared_ptr<Config> config, Url url, std::string method,
                                      HeaderList headers, std::string body, Clock::time_point deadline) {
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(method);
    req.target(url.target);
    req.set(bhttp::field::host, HostHeader(url));
    bool has_user_agent = false;
    for (const auto& [name, value] : headers) {
        // Framing and the connection are the client's business.
        if (IEquals(name, "host") || IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
            IEquals(name, "connection")) {
            continue;
        }
        has_user_agent = has_user_agent || IEquals(name, "user-agent");
        req.insert(name, value);
    }
    if (!has_user_agent) req.set(bhttp::field::user_agent, "weft");
    req.set(bhttp::field::connection, "close");
    req.body() = std::move(body);
    req.prepare_payload();

    const std::string where = HostHeader(url);
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [write_ec, written] = co_await bhttp::async_write(stream, req, kTuple);
    (void)written;
    if (write_ec) {
        if (TimedOut(write_ec, deadline)) co_return Failure(TransportError::kTimeout, "the request timed out");
        co_return Failure(TransportError::kNetwork,
                          "sending the request to " + where + " failed: " + write_ec.message());
    }

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(config->options.max_response_bytes);
    if (method == "HEAD") parser.skip(true);
    auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    (void)read;
    if (read_ec == bhttp::error::body_limit) {
        co_return Failure(TransportError::kBlocked, "the response body is larger than the limit of " +
                                                        std::to_string(config->options.max_response_bytes) + " bytes");
    }
    if (read_ec) {
        if (TimedOut(read_ec, deadline)) co_return Failure(TransportError::kTimeout, "the request timed out");
        co_return Failure(TransportError::kNetwork,
                          "reading the response from " + where + " failed: " + read_ec.message());
    }
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);

    auto res = parser.release();
    HttpResult result;
    result.response.emplace();
    result.response->status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
        result.response->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    result.response->body = std::move(res.body());
    co_return result;
}

// One request and its response, on a fresh connection to an address the guard allows.
asio::awaitable<HttpResult> Exchange(std::shared_ptr<Config> config, Url url, std::string method, HeaderList headers,
                                     std::string body, Clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    if (Clock::now() >= deadline) co_return Failure(TransportError::kTimeout, "the request timed out");

    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(executor);
    auto resolve_timed_out = std::make_shared<bool>(false);
    asio::steady_timer resolve_timer(executor, deadline);
    resolve_timer.async_wait([resolver, resolve_timed_out](const beast::error_code& ec) {
        if (ec) return;
        *resolve_timed_out = true;
        resolver->cancel();
    });
    auto [resolve_ec, results] = co_await resolver->async_resolve(url.host, std::to_string(url.port), kTuple);
    resolve_timer.cancel();
    if (*resolve_timed_out) co_return Failure(TransportError::kTimeout, "the request timed out resolving " + url.host);
    if (resolve_ec) {
        co_return Failure(TransportError::kNetwork, "cannot resolve host " + url.host + ": " + resolve_ec.message());
    }

    std::vector<tcp::endpoint> allowed;
    std::string refused;
    for (const auto& entry : results) {
        const std::string ip = entry.endpoint().address().to_string();
        if (AddressAllowed(*config, ip)) {
            allowed.push_back(entry.endpoint());
        } else if (refused.empty()) {
            refused = ip + " (" + std::string(AddressClassName(ClassifyAddress(ip))) + ")";
        }
    }
    if (allowed.empty()) {
        co_return Failure(TransportError::kBlocked, "refused by the outbound address guard: " + url.host +
                                                        " resolves to " + refused +
                                                        "; private networks are not allowed (allow_private_network)");
    }

    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);
    auto [connect_ec, endpoint] = co_await stream.async_connect(allowed, kTuple);
    (void)endpoint;
    if (connect_ec) {
        if (TimedOut(connect_ec, deadline)) co_return Failure(TransportError::kTimeout, "the request timed out");
        co_return Failure(TransportError::kNetwork,
                          "cannot connect to " + HostHeader(url) + ": " + connect_ec.message());
    }
    if (!url.https) {
        co_return co_await RoundTrip(std::move(stream), std::move(config), std::move(url), std::move(method),
                                     std::move(headers), std::move(body), deadline);
    }

    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), config->tls);
    if (!ExpectPeer(tls.native_handle(), url.host)) {
        co_return Failure(TransportError::kNetwork, "cannot set the TLS server name for " + url.host);
    }
    tls.set_verify_mode(ssl::verify_peer);
    beast::get_lowest_layer(tls).expires_at(deadline);
    auto [handshake_ec] = co_await tls.async_handshake(ssl::stream_base::client, kTuple);
    if (handshake_ec) {
        if (TimedOut(handshake_ec, deadline)) co_return Failure(TransportError::kTimeout, "the request timed out");
        const long verify = SSL_get_verify_result(tls.native_handle());
        if (verify != X509_V_OK) {
            co_return Failure(TransportError::kNetwork, "TLS handshake with " + HostHeader(url) +
                                                            " failed: the server's certificate was refused (" +
                                                            X509_verify_cert_error_string(verify) + ")");
        }
        co_return Failure(TransportError::kNetwork,
                          "TLS handshake with " + HostHeader(url) + " failed: " + handshake_ec.message());
    }
    co_return co_await RoundTrip(std::move(tls), std::move(config), std::move(url), std::move(method),
                                 std::move(headers), std::move(body), deadline);
}

void RemoveHeaders(HeaderList& headers, std::initializer_list<std::string_view> names) {
    std::erase_if(headers, [&](const auto& h) {
        return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return IEquals(h.first, n); });
    });
}

// The request with its redirects, all within the request's deadline.
asio::awaitable<HttpResult> Fetch(std::shared_ptr<Config> config, engine::HttpRequestEffect request) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(1, request.timeout_ms));
    auto parsed = ParseUrl(request.url);
    if (!parsed.url) co_return Failure(TransportError::kBlocked, parsed.error);
    Url url = std::move(*parsed.url);
    std::string method = request.method.empty() ? "GET" : request.method;
    if (HasControlOrSpace(method) || method.find_first_of("()<>@,;:\\\"/[]?={}") != std::string::npos) {
        co_return Failure(TransportError::kBlocked, "invalid HTTP method \"" + method + "\"");
    }
    for (const auto& [name, value] : request.headers) {
        if (name.empty() || HasControlOrSpace(name) || name.find(':') != std::string::npos ||
            HasLineBreakOrNul(value)) {
            co_return Failure(TransportError::kBlocked, "invalid header \"" + name + "\"");
        }
    }
    HeaderList headers = std::move(request.headers);
    std::string body = std::move(request.body);

    for (int hop = 0;; ++hop) {
        HttpResult result = co_await Exchange(config, url, method, headers, body, deadline);
        if (!result.response || !IsRedirect(result.response->status)) co_return result;
        const auto& response_headers = result.response->headers;
        const auto location = std::find_if(response_headers.begin(), response_headers.end(),
                                           [](const auto& h) { return IEquals(h.first, "location"); });
        if (location == response_headers.end()) co_return result;
        if (hop >= config->options.max_redirects) {
            co_return Failure(TransportError::kBlocked,
                              "too many redirects (more than " + std::to_string(config->options.max_redirects) + ")");
        }
        auto next = ResolveLocation(url, location->second);
        if (!next.url) {
            co_return Failure(TransportError::kBlocked, "bad redirect to \"" + location->second + "\": " + next.error);
        }
        const int status = result.response->status;
        if ((status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST")) {
            method = "GET";
            body.clear();
            RemoveHeaders(headers, {"content-type", "content-encoding", "content-language"});
        }
        if (Origin(*next.url) != Origin(url)) {
            // Credentials meant for one host must not follow a redirect to another.
            RemoveHeaders(headers, {"authorization", "proxy-authorization", "cookie"});
        }
        url = std::move(*next.url);
    }
}

}  // namespace

struct HttpClient::Impl {
    explicit Impl(Options options) : config(std::make_shared<Config>(std::move(options))) {}

    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
    std::shared_ptr<Config> config;
    std::thread thread;
    std::atomic<bool> stopped{false};
    std::mutex shutdown_mu;
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() { Shutdown(); }

std::unique_ptr<HttpClient> HttpClient::Create(Options options) {
    auto impl = std::make_unique<Impl>(std::move(options));
    impl->thread = std::thread([ioc = &impl->ioc] {
        for (;;) {
            try {
                ioc->run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("unhandled exception on the HTTP client's I/O thread: {}", e.what());
            }
        }
    });
    return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

void HttpClient::Send(const engine::HttpRequestEffect& request, std::function<void(engine::HttpResult)> done) {
    if (impl_->stopped.load()) {
        done(Failure(TransportError::kNetwork, "the HTTP client is shut down"));
        return;
    }
    asio::co_spawn(impl_->ioc, Fetch(impl_->config, request),
                   [done = std::move(done), url = request.url](std::exception_ptr e, HttpResult result) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                               spdlog::error("outbound request to {} failed: {}", url, ex.what());
                               result = Failure(TransportError::kNetwork, std::string("internal error: ") + ex.what());
                           } catch (...) {
                               spdlog::error("outbound request to {} failed with an unknown exception", url);
                               result = Failure(TransportError::kNetwork, "internal error");
                           }
                       }
                       try {
                           done(std::move(result));
                       } catch (const std::exception& ex) {
                           spdlog::error("the completion of the outbound request to {} failed: {}", url, ex.what());
                       }
                   });
}

void HttpClient::Shutdown() {
    std::lock_guard lock(impl_->shutdown_mu);
    if (impl_->stopped.exchange(true)) return;
    impl_->work.reset();
    impl_->ioc.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace weft::http
