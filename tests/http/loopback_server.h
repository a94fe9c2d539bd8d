#pragma once

// The accept loop the outbound client's test servers share: a listener on 127.0.0.1, port 0, with its own
// io_context on its own thread, handing each accepted connection to a session coroutine of its owner.

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <cstdint>
#include <functional>
#include <thread>

namespace weft::http::testing {

inline constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

class LoopbackServer {
  public:
    using tcp = boost::asio::ip::tcp;
    using Session = std::function<boost::asio::awaitable<void>(tcp::socket)>;

    // Accepts at once. Make it the owner's LAST member: it is then destroyed first, so the loop and the sessions
    // still running (they may use the owner's other members) end before those members do.
    explicit LoopbackServer(Session session);
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    std::uint16_t port() const { return port_; }

  private:
    boost::asio::awaitable<void> Accept();

    Session session_;
    boost::asio::io_context ioc_{1};
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace weft::http::testing
