#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "engine/effects.h"
#include "jobs/run_workers.h"

namespace weft::http {

// Performs the engine's HTTP effects: HTTP/1.1 over TCP or TLS 1.2+ (the peer's certificate verified against
// the system CA store and the URL's host name), redirects, a deadline per request (redirects included), a
// response size limit, and the outbound address guard on every address it connects to, on every redirect hop. It owns a
// small io_context and one I/O thread, so it does not depend on the server; nothing outside this file's implementation
// sees Asio.
class HttpClient final : public jobs::OutboundHttp {
  public:
    struct Options {
        // Lets requests reach loopback, private, link-local and metadata addresses (tests, trusted setups).
        bool allow_private_network = false;
        int max_redirects = 5;
        std::size_t max_response_bytes = std::size_t{16} * 1024 * 1024;
        // Decides whether a resolved address (textual IP) may be connected to when private networks are not
        // allowed. Empty: the address guard (IsPublicAddress). Tests set it to exercise the guard locally.
        std::function<bool(const std::string& ip)> allow_address;
        // Testing only: a PEM file of CA certificates trusted in addition to the system store, so tests can
        // stand up their own TLS servers. Empty (the default): the system store alone. Create throws
        // std::runtime_error when the file cannot be read or holds no certificate.
        std::string extra_ca_file;
    };

    // Starts the I/O thread. Throws std::runtime_error when `options.extra_ca_file` cannot be loaded.
    static std::unique_ptr<HttpClient> Create(Options options);
    ~HttpClient() override;
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Thread-safe. `done` is called exactly once, on the client's I/O thread (or at once, on the calling
    // thread, after Shutdown). Failures are values: TransportError::kNetwork (connection refused/reset, DNS
    // failure), kTimeout (timeout_ms elapsed, redirects included), kBlocked (address guard, bad URL, too many
    // redirects, response over max_response_bytes). Any HTTP status, 4xx and 5xx included, is a response.
    void Send(const engine::HttpRequestEffect& request, std::function<void(engine::HttpResult)> done) override;

    // Stops the I/O thread and joins it. Requests in flight are abandoned: their `done` is not called.
    // Idempotent; the destructor calls it.
    void Shutdown();

  private:
    struct Impl;
    explicit HttpClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace weft::http
