#include "http/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <unordered_map>

#include "core/crypto.h"
#include "http/errors.h"

namespace weft::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

// Client-sent ids are echoed only when short and plain, so they are safe in logs and headers.
bool SaneRequestId(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

std::string NewRequestId() { return HexEncode(RandomBytes(8)); }

void SplitTarget(std::string_view target, Request& req) {
    const size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q == std::string_view::npos) return;
    // Lenient on purpose: clients send `created_at[gt]=...` with the brackets unencoded, which a strict URI
    // parser refuses. Each `&`-separated pair is split at its first `=` and percent-decoded ('+' is a space).
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        const size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        auto decode = [](std::string_view s) {
            std::string plus(s);
            for (auto& c : plus) {
                if (c == '+') c = ' ';
            }
            return PercentDecode(plus);
        };
        req.query.emplace_back(decode(pair.substr(0, eq)),
                               eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1)));
    }
}

struct SessionState {
    explicit SessionState(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool busy = false;  // a request is being read, handled or written
};

// AsyncRuntime on the server's io_context: timers wait on the event loop, callbacks run on the blocking pool.
class AsioRuntime final : public AsyncRuntime {
  public:
    AsioRuntime(asio::io_context& ioc, asio::thread_pool& pool) : ioc_(ioc), pool_(pool) {}

    void Post(std::function<void()> fn) override { asio::post(pool_, std::move(fn)); }

    std::shared_ptr<Timer> After(std::chrono::microseconds delay, std::function<void()> fn) override {
        auto t = std::make_shared<AsioTimer>(ioc_);
        std::lock_guard lock(t->mu);
        t->timer.expires_after(delay);
        t->timer.async_wait([t, fn = std::move(fn), &pool = pool_](const boost::system::error_code&) mutable {
            if (t->cancelled.load()) return;
            asio::post(pool, std::move(fn));
        });
        return t;
    }

  private:
    struct AsioTimer final : Timer {
        explicit AsioTimer(asio::io_context& ioc) : timer(ioc) {}
        void FireNow() override {
            std::lock_guard lock(mu);
            timer.cancel();  // the wait completes now; not cancelled, so fn runs
        }
        void Cancel() override {
            cancelled = true;
            std::lock_guard lock(mu);
            timer.cancel();
        }
        std::mutex mu;
        asio::steady_timer timer;
        std::atomic<bool> cancelled{false};
    };

    asio::io_context& ioc_;
    asio::thread_pool& pool_;
};

}  // namespace

struct Server::Impl {
    Impl(ServerOptions o, const Router& r, MetricsRegistry& m)
        : options(std::move(o)),
          router(r),
          metrics(m),
          ioc(options.io_threads),
          blocking(static_cast<std::size_t>(options.blocking_threads)),
          reads(static_cast<std::size_t>(options.read_threads)),
          acceptor(ioc),
          signals(ioc, SIGINT, SIGTERM),
          open_connections(m.GaugeFor("weft_http_open_connections")),
          runtime(ioc, blocking) {
        m.Describe("weft_http_requests_total", "counter", "HTTP requests by route, method and status.");
        m.Describe("weft_http_request_duration_seconds", "histogram", "HTTP request latency by route.");
        m.Describe("weft_http_open_connections", "gauge", "Open client connections.");
    }

    awaitable<void> Accept();
    awaitable<void> Session(std::shared_ptr<SessionState> s, std::uint64_t id);
    awaitable<Response> Dispatch(std::shared_ptr<Request> req);
    Response RespondNow(const RouteMatch& match, Request& req);
    awaitable<Response> RunBlocking(const Route* r, std::shared_ptr<Request> req, std::shared_ptr<PathParams> params);
    awaitable<void> WriteResponse(SessionState& s, Response resp, const std::string& request_id, bool keep_alive,
                                  unsigned version);
    awaitable<void> LingeringClose(SessionState& s);
    void BeginShutdown();
    void Record(const Request& req, const std::string& route, const Response& resp,
                std::chrono::steady_clock::time_point start);

    ServerOptions options;
    const Router& router;
    MetricsRegistry& metrics;
    asio::io_context ioc;
    asio::thread_pool blocking;
    asio::thread_pool reads;
    tcp::acceptor acceptor;
    asio::signal_set signals;
    Counter& open_connections;
    std::atomic<bool> stopping{false};
    std::atomic<int> busy_sessions{0};
    std::mutex sessions_mu;
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionState>> sessions;
    std::atomic<std::uint64_t> next_session{1};
    AsioRuntime runtime;
};

Server::Server(ServerOptions options, const Router& router, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() { JoinPools(); }

void Server::JoinPools() {
    impl_->blocking.join();
    impl_->reads.join();
}

bool Server::stopping() const { return impl_->stopping.load(); }

AsyncRuntime& Server::runtime() { return impl_->runtime; }

std::uint16_t Server::Listen() {
    auto& a = impl_->acceptor;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(impl_->options.host, ec);
    if (ec) throw std::runtime_error("invalid listen address '" + impl_->options.host + "': " + ec.message());
    const tcp::endpoint ep(address, impl_->options.port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                                 ": " + ec.message());
    }
    a.listen(asio::socket_base::max_listen_connections);
    return a.local_endpoint().port();
}

void Server::Shutdown() {
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->BeginShutdown(); });
}

void Server::Run() {
    auto* impl = impl_.get();
    impl->signals.async_wait([impl](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {} received: shutting down", sig);
        impl->BeginShutdown();
    });
    asio::co_spawn(impl->ioc, impl->Accept(), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("accept loop failed: {}", ex.what());
        }
    });
    // A handler that throws is a bug; log it and keep serving rather than take the process down.
    auto run_loop = [impl] {
        while (true) {
            try {
                impl->ioc.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("unhandled exception on the event loop: {}", e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < impl->options.io_threads; ++i) threads.emplace_back(run_loop);
    run_loop();
    for (auto& t : threads) t.join();
}

void Server::Impl::BeginShutdown() {
    if (stopping.exchange(true)) return;
    boost::system::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    // Idle keep-alive connections are closed now; busy ones finish their request and then close.
    {
        std::lock_guard lock(sessions_mu);
        for (auto& [id, weak] : sessions) {
            if (auto s = weak.lock()) {
                asio::post(s->stream.get_executor(), [s] {
                    boost::system::error_code ignored;
                    if (!s->busy) s->stream.socket().cancel(ignored);
                });
            }
        }
    }
    // Wait for in-flight requests, then stop the loop (this also ends anything else scheduled on it).
    auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
    asio::co_spawn(
        ioc,
        [this, deadline]() -> awaitable<void> {
            asio::steady_timer t(ioc);
            while (std::chrono::steady_clock::now() < deadline) {
                {
                    std::lock_guard lock(sessions_mu);
                    if (sessions.empty()) break;
                }
                t.expires_after(std::chrono::milliseconds(20));
                co_await t.async_wait(kTuple);
            }
            ioc.stop();
        },
        asio::detached);  // ends with ioc.stop(); nothing to report
}

awaitable<void> Server::Impl::Accept() {
    while (!stopping) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kTuple);
        if (ec) {
            if (stopping || ec == asio::error::operation_aborted) break;
            spdlog::warn("accept failed: {}", ec.message());
            continue;
        }
        boost::system::error_code opt_ec;
        socket.set_option(tcp::no_delay(true), opt_ec);
        auto state = std::make_shared<SessionState>(std::move(socket));
        const auto id = next_session++;
        {
            std::lock_guard lock(sessions_mu);
            sessions.emplace(id, state);
        }
        auto executor = state->stream.get_executor();
        asio::co_spawn(executor, Session(state, id), [this, id](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("connection {} failed: {}", id, ex.what());
                }
            }
            std::lock_guard lock(sessions_mu);
            sessions.erase(id);
        });
    }
}

awaitable<void> Server::Impl::Session(std::shared_ptr<SessionState> s, std::uint64_t id) {
    (void)id;
    open_connections.Add(1);
    struct Gauge {
        Counter& c;
        ~Gauge() { c.Add(-1); }
    } gauge{open_connections};

    std::string remote;
    {
        boost::system::error_code ec;
        auto ep = s->stream.socket().remote_endpoint(ec);
        if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::flat_buffer buffer;
    while (!stopping) {
        if (buffer.size() == 0) {
            // Between requests only the idle timeout applies; the request's own clock starts at its first byte.
            s->stream.expires_after(options.idle_timeout);
            auto [ec, n] = co_await s->stream.async_read_some(buffer.prepare(4096), kTuple);
            if (ec) break;
            buffer.commit(n);
        }
        s->busy = true;
        const auto start = std::chrono::steady_clock::now();
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        parser.body_limit(options.max_body_bytes);
        s->stream.expires_after(options.read_timeout);
        auto [ec, n] = co_await bhttp::async_read(s->stream, buffer, parser, kTuple);
        if (ec) {
            Request failed;
            failed.method = "-";
            failed.remote = remote;
            failed.request_id = NewRequestId();
            if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit) {
                const bool header = ec == bhttp::error::header_limit;
                Error e{
                    ErrorCode::kPayloadTooLarge,
                    header
                        ? "The request headers are larger than " + std::to_string(options.max_header_bytes) + " bytes."
                        : "The request body is larger than " + std::to_string(options.max_body_bytes) + " bytes.",
                    {},
                    {}};
                if (parser.is_header_done()) {
                    failed.method = std::string(parser.get().method_string());
                    failed.path = std::string(parser.get().target());
                }
                Response resp = ErrorResponse(e, failed.request_id);
                Record(failed, "unmatched", resp, start);
                co_await WriteResponse(*s, std::move(resp), failed.request_id, false, 11);
                co_await LingeringClose(*s);
            } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                       ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                       ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
                // A malformed request: answer once, then close (the stream can't be trusted to be in sync).
                Response resp =
                    ErrorResponse(Error::Invalid("Malformed HTTP request: " + ec.message() + "."), failed.request_id);
                Record(failed, "unmatched", resp, start);
                co_await WriteResponse(*s, std::move(resp), failed.request_id, false, 11);
                co_await LingeringClose(*s);
            }
            break;
        }
        auto msg = parser.release();
        auto req = std::make_shared<Request>();
        req->method = std::string(msg.method_string());
        req->target = std::string(msg.target());
        SplitTarget(req->target, *req);
        for (const auto& field : msg)
            req->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        req->body = std::move(msg.body());
        req->remote = remote;
        req->host = std::string(msg[bhttp::field::host]);
        const std::string* client_id = req->Header("X-Request-Id");
        req->request_id = client_id && SaneRequestId(*client_id) ? *client_id : NewRequestId();
        const bool keep_alive = msg.keep_alive() && !stopping;
        const unsigned version = msg.version();

        Response resp = co_await Dispatch(req);
        co_await WriteResponse(*s, resp, req->request_id, keep_alive && !resp.close, version);
        s->busy = false;
        if (!keep_alive || resp.close) break;
    }
    boost::system::error_code ec;
    s->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    s->stream.socket().close(ec);
}

awaitable<Response> Server::Impl::Dispatch(std::shared_ptr<Request> req) {
    const auto start = std::chrono::steady_clock::now();
    RouteMatch match = router.Match(req->method, req->path);
    const Route* r = match.route;
    Response resp;
    if (r && r->execution != Execution::kInline) {
        resp = co_await RunBlocking(r, req, std::make_shared<PathParams>(std::move(match.params)));
    } else {
        resp = RespondNow(match, *req);
    }
    Record(*req, r ? r->pattern : std::string("unmatched"), resp, start);
    co_return resp;
}

Response Server::Impl::RespondNow(const RouteMatch& match, Request& req) {
    if (match.route) {
        std::optional<Response> out;
        try {
            match.route->handler(req, match.params, [&out](Response x) { out = std::move(x); });
        } catch (const std::exception& e) {
            spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, req.path, e.what());
            return ErrorResponse(Error::Internal(e.what()), req.request_id);
        }
        return out ? std::move(*out) : ErrorResponse(Error::Internal("inline handler did not respond"), req.request_id);
    }
    if (match.allowed.empty()) {
        return ErrorResponse(Error::NotFound("No such endpoint: " + req.method + " " + req.path + "."), req.request_id);
    }
    std::string allow;
    for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response resp = ErrorResponse(
        {ErrorCode::kMethodNotAllowed, "Method " + req.method + " is not allowed here; use " + allow + ".", {}, {}},
        req.request_id);
    resp.SetHeader("Allow", allow);
    return resp;
}

// Runs a handler on the blocking (or read) pool, or a kAsync one right here, and resumes the caller on its own
// strand with the response. Deliberately not a coroutine: GCC 12 mis-destroys lambda captures built inside a
// co_await expression.
awaitable<Response> Server::Impl::RunBlocking(const Route* r, std::shared_ptr<Request> req,
                                              std::shared_ptr<PathParams> params) {
    return asio::async_initiate<decltype(use_awaitable), void(Response)>(
        [this, r, req, params](auto handler) {
            auto work = asio::make_work_guard(asio::get_associated_executor(handler, ioc.get_executor()));
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            auto once = std::make_shared<std::atomic<bool>>(false);
            const bool here = r->execution == Execution::kAsync;
            http::Respond respond = [shared, once, work, here](Response x) mutable {
                if (once->exchange(true)) return;
                auto ex = asio::get_associated_executor(*shared);
                // (An answer given on the I/O thread while the handler still runs must not resume the session
                // inside it: it is posted.)
                auto resume = [shared, x = std::move(x)]() mutable { (*shared)(std::move(x)); };
                if (here) {
                    asio::post(ex, std::move(resume));
                } else {
                    asio::dispatch(ex, std::move(resume));
                }
                work.reset();
            };
            auto run = [r, req, params, respond]() {
                try {
                    r->handler(*req, *params, respond);
                } catch (const std::exception& e) {
                    spdlog::error("request {} {} {} failed: {}", req->request_id, req->method, req->path, e.what());
                    respond(ErrorResponse(Error::Internal(e.what()), req->request_id));
                }
            };
            if (here) return run();
            asio::post(r->execution == Execution::kRead ? reads : blocking, std::move(run));
        },
        use_awaitable);
}

awaitable<void> Server::Impl::WriteResponse(SessionState& s, Response resp, const std::string& request_id,
                                            bool keep_alive, unsigned version) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(resp.status), version};
    if (!resp.content_type.empty()) out.set(bhttp::field::content_type, resp.content_type);
    out.set("X-Request-Id", request_id);
    for (auto& [k, v] : resp.headers) out.set(k, v);
    out.body() = std::move(resp.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    s.stream.expires_after(options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(s.stream, out, kTuple);
    (void)n;
    if (ec) s.stream.socket().close(ec);
}

awaitable<void> Server::Impl::LingeringClose(SessionState& s) {
    // Closing with unread input makes the kernel send RST, which can destroy the response before the client
    // reads it. Half-close, then drain what the client still sends, briefly.
    boost::system::error_code ec;
    s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    s.stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16384> sink;
    std::size_t drained = 0;
    while (drained < 8 * 1024 * 1024) {
        auto [rec, n] = co_await s.stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        drained += n;
    }
}

void Server::Impl::Record(const Request& req, const std::string& route, const Response& resp,
                          std::chrono::steady_clock::time_point start) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string labels = "route=\"" + LabelValue(route) + "\",method=\"" + LabelValue(req.method) +
                               "\",status=\"" + std::to_string(resp.status) + "\"";
    metrics.CounterFor("weft_http_requests_total", labels).Add();
    metrics.HistogramFor("weft_http_request_duration_seconds", "route=\"" + LabelValue(route) + "\"").Observe(seconds);
    if (options.access_log) {
        boost::json::object line;
        line["request_id"] = req.request_id;
        line["remote"] = req.remote;
        line["method"] = req.method;
        line["path"] = req.path;
        line["route"] = route;
        line["status"] = resp.status;
        line["duration_ms"] = seconds * 1000.0;
        line["bytes_in"] = req.body.size();
        line["bytes_out"] = resp.body.size();
        spdlog::info("access {}", boost::json::serialize(line));
    }
}

}  // namespace weft::http
