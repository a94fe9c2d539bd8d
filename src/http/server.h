#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/async.h"
#include "core/metrics.h"
#include "http/router.h"

namespace weft::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    int io_threads = 2;
    int blocking_threads = 16;
    int read_threads = 2;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::milliseconds read_timeout{30'000};   // a whole request, from its first byte
    std::chrono::milliseconds write_timeout{30'000};  // a whole response
    std::chrono::milliseconds idle_timeout{60'000};   // a keep-alive connection waiting for its next request
    std::chrono::milliseconds shutdown_timeout{10'000};
    bool access_log = true;
};

// The HTTP/1.1 server: Boost.Beast over C++20 coroutines, a strand per connection, handlers that touch the
// database run on a separate blocking pool. Beast and Asio stay behind this interface.
class Server {
  public:
    Server(ServerOptions options, const Router& router, MetricsRegistry& metrics);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens; throws std::runtime_error when the address cannot be bound. Returns the bound port.
    std::uint16_t Listen();

    // Serves until SIGINT/SIGTERM or Shutdown(): then stops accepting, lets in-flight requests finish (up to
    // shutdown_timeout), closes idle connections and returns.
    void Run();

    // After Run() returned and the jobs using runtime() were stopped: waits for every task already posted to the
    // blocking and read pools to finish, so that nothing runs on them once this returns (the jobs' objects may
    // then be destroyed). Later posts never run.
    void JoinPools();

    // Timers and the blocking pool on this server's event loop, for the layers that must not see Asio.
    AsyncRuntime& runtime();

    // Thread-safe; starts the graceful shutdown.
    void Shutdown();
    bool stopping() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace weft::http
