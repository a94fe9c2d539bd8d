#include "loopback_server.h"

#include <gtest/gtest.h>

#include <exception>
#include <utility>

namespace weft::http::testing {

namespace asio = boost::asio;

LoopbackServer::LoopbackServer(Session session)
    : session_(std::move(session)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), [](std::exception_ptr e) {
        if (e) ADD_FAILURE() << "test server accept loop failed";
    });
    thread_ = std::thread([this] { ioc_.run(); });
}

LoopbackServer::~LoopbackServer() {
    ioc_.stop();
    thread_.join();
}

asio::awaitable<void> LoopbackServer::Accept() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
        if (ec) co_return;
        asio::co_spawn(ioc_, session_(std::move(socket)), [](std::exception_ptr) {});
    }
}

}  // namespace weft::http::testing
