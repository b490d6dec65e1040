// One request's trip: a server connection (pooled or new), the request head and body out, the
// response head and body back, retries after the pool race, and the 101 tunnel. The byte loops
// that move bodies and tunnel bytes are in exchange_relay.cpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "exchange_relay.hpp"
#include "session.hpp"

namespace satlink::proxycore::detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using namespace asio::experimental::awaitable_operators;

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool idempotent(http::verb v) {
  return v == http::verb::get || v == http::verb::head || v == http::verb::put ||
         v == http::verb::delete_ || v == http::verb::options || v == http::verb::trace;
}

class Exchange {
 public:
  Exchange(ClientConn& c, RequestParser& req, const RequestFacts& facts, ConnFate client_fate,
           AccessRecord& log)
      : c_(c), w_(c.w), cfg_(c.w.config()), req_(req), facts_(facts), client_fate_(client_fate),
        log_(log), backend_(w_.route(req.get()[http::field::host], req.get().target())) {}

  asio::awaitable<ConnFate> run();

 private:
  enum class Step { ok, retry, failed };
  asio::awaitable<Step> send_request(bool fresh);
  asio::awaitable<Step> send_body();
  asio::awaitable<Step> read_response();
  asio::awaitable<ConnFate> forward_response();
  asio::awaitable<void> tunnel();
  asio::awaitable<Step> fail(ErrorKind kind);
  void drop_server() {
    release(w_, lease_, false);  // closes the connection, with its event and gauge
    c_.current_server = nullptr;
  }

  ClientConn& c_;
  Worker& w_;
  const ProxyConfig& cfg_;
  RequestParser& req_;
  RequestFacts facts_;
  ConnFate client_fate_;
  AccessRecord& log_;
  BackendRuntime& backend_;
  ForwardOptions opts_;
  ConnFate server_fate_ = ConnFate::close;
  OutRequest out_;
  std::optional<http::request_serializer<http::buffer_body>> sr_;
  std::optional<ResponseParser> rsp_;
  Lease lease_;
  bool has_body_ = false;
  bool expect_continue_ = false;
  bool body_sent_ = false;
  bool response_started_ = false;  // a byte of the response reached the client
  Clock::time_point sent_at_{};
};

asio::awaitable<ConnFate> Exchange::run() {
  log_.backend = backend_.config->name;
  has_body_ = !req_.is_done();
  body_sent_ = !has_body_;
  expect_continue_ =
      has_body_ && beast::iequals(req_.get()[http::field::expect], "100-continue");
  opts_ = {cfg_.client.add_via, cfg_.client.add_x_forwarded_for, cfg_.via_name, c_.ip};
  server_fate_ = server_fate_on_request(cfg_.server.keep_alive, facts_);
  make_server_request(req_, server_fate_, opts_, out_);
  for (int attempt = 0;; ++attempt) {
    Step s = co_await send_request(attempt > 0);
    if (s == Step::ok) s = co_await read_response();
    if (s == Step::failed) co_return ConnFate::close;
    if (s == Step::ok) break;
    // The pool race: the origin closed the reused connection as we sent. Fresh connection.
    drop_server();
    w_.bump(&Counters::retries);
    w_.emit(EventKind::retry, Side::server, 0, log_.request);
    log_.retried = true;
  }
  co_return co_await forward_response();
}

asio::awaitable<Exchange::Step> Exchange::fail(ErrorKind kind) {
  drop_server();
  if (response_started_) {
    // Too late for an error response: the client sees the connection close mid-message.
    log_.error = kind;
    w_.emit(EventKind::error, Side::client, c_.id, log_.request, static_cast<std::int64_t>(kind));
  } else {
    co_await send_error(c_, kind, log_.request, log_);
  }
  co_return Step::failed;
}

asio::awaitable<Exchange::Step> Exchange::send_request(bool fresh) {
  AcquireContext ctx{c_.id, log_.request, c_.served == 1, c_.last_server, fresh};
  lease_ = co_await acquire(w_, backend_, ctx);
  if (lease_.error != ErrorKind::none) co_return co_await fail(lease_.error);
  auto& sc = *lease_.conn;
  c_.current_server = &sc;
  c_.last_server = lease_.server;
  sc.owner = c_.id;
  ++sc.requests;
  log_.server = lease_.server->config->name;
  log_.server_conn = sc.id;
  log_.server_conn_reused = lease_.reused;
  log_.t_queue = lease_.t_queue_ms;
  log_.t_connect = lease_.t_connect_ms;

  sr_.emplace(out_);
  out_.body().data = nullptr;
  out_.body().size = 0;
  out_.body().more = has_body_;
  sc.stream->arm(cfg_.timeouts.server);
  auto [ec, n] = has_body_ ? co_await http::async_write_header(*sc.stream, *sr_, use_nothrow)
                           : co_await http::async_write(*sc.stream, *sr_, use_nothrow);
  w_.bump(&Counters::bytes_to_servers, static_cast<std::int64_t>(n));
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    // Nothing of this request reached a reused connection's server: safe to resend any method.
    if (lease_.reused && !fresh && !sc.stream->timed_out()) co_return Step::retry;
    co_return co_await fail(sc.stream->timed_out() ? ErrorKind::gateway_timeout
                                                   : ErrorKind::bad_gateway);
  }
  sent_at_ = Clock::now();
  w_.emit(EventKind::request_sent, Side::server, sc.id, log_.request);
  if (has_body_ && !expect_continue_) co_return co_await send_body();
  co_return Step::ok;
}

asio::awaitable<Exchange::Step> Exchange::send_body() {
  auto& sc = *lease_.conn;
  const Relay relay = co_await relay_body(*c_.stream, c_.buffer, req_, cfg_.timeouts.client,
                                         *sc.stream, *sr_, out_, cfg_.timeouts.server,
                                         cfg_.client.max_body_bytes);
  log_.bytes_in = relay.body_bytes;
  w_.bump(&Counters::bytes_from_clients, static_cast<std::int64_t>(relay.body_bytes));
  w_.bump(&Counters::bytes_to_servers, static_cast<std::int64_t>(relay.wire_bytes));
  switch (relay.end) {
    case RelayEnd::done:
      body_sent_ = true;
      w_.emit(EventKind::request_body_end, Side::client, c_.id, log_.request,
              static_cast<std::int64_t>(log_.bytes_in));
      co_return Step::ok;
    case RelayEnd::from_timeout: co_return co_await fail(ErrorKind::request_timeout);
    case RelayEnd::from_failed: co_return co_await fail(ErrorKind::client_aborted);
    case RelayEnd::too_large: co_return co_await fail(ErrorKind::body_too_large);
    case RelayEnd::bad: co_return co_await fail(ErrorKind::bad_request);
    case RelayEnd::to_timeout: co_return co_await fail(ErrorKind::gateway_timeout);
    case RelayEnd::to_failed: co_return co_await fail(ErrorKind::bad_gateway);
  }
  co_return Step::failed;
}

asio::awaitable<Exchange::Step> Exchange::read_response() {
  auto& sc = *lease_.conn;
  const auto limit = cfg_.server.max_header_bytes;
  for (bool first = true;; first = false) {
    const HeadRead h = co_await read_head(*sc.stream, sc.buffer, limit, cfg_.timeouts.server,
                                          cfg_.timeouts.server, kResponseReadSize);
    switch (h.status) {
      case HeadStatus::ok: break;
      case HeadStatus::closed:
        if (first && lease_.reused && !has_body_ && !log_.retried &&
            idempotent(req_.get().method()))
          co_return Step::retry;
        co_return co_await fail(ErrorKind::bad_gateway);
      case HeadStatus::idle_timeout:
      case HeadStatus::timeout: co_return co_await fail(ErrorKind::gateway_timeout);
      default: co_return co_await fail(ErrorKind::bad_gateway);
    }
    w_.emit_at(h.first_byte, EventKind::response_head_start, Side::server, sc.id, log_.request);
    w_.bump(&Counters::bytes_from_servers, static_cast<std::int64_t>(h.size));
    rsp_.emplace();
    rsp_->header_limit(static_cast<std::uint32_t>(limit + 4));
    rsp_->body_limit(boost::none);
    if (facts_.is_head) rsp_->skip(true);
    const std::string_view bytes(static_cast<const char*>(sc.buffer.data().data()), h.size);
    beast::error_code ec;
    if (head_bytes_are_strict(bytes)) rsp_->put(asio::buffer(bytes), ec);
    sc.buffer.consume(h.size);
    if (!head_bytes_are_strict(bytes) || (ec && ec != http::error::need_buffer) ||
        !validate_response(*rsp_))
      co_return co_await fail(ErrorKind::bad_gateway);
    const int status = static_cast<int>(rsp_->get().result_int());
    w_.emit(EventKind::response_head_end, Side::server, sc.id, log_.request, status);
    log_.t_response = ms_since(sent_at_);
    if (status == 101 && server_fate_ != ConnFate::tunnel)
      co_return co_await fail(ErrorKind::bad_gateway);  // an upgrade nobody asked for
    if (status >= 200 || status == 101) co_return Step::ok;
    // Interim response: forwarded to HTTP/1.1 clients; 100 releases a held-back body.
    if (!facts_.http10) {
      OutResponse interim;
      make_client_response(*rsp_, facts_, ConnFate::keep_alive, ClientFraming::none, opts_,
                           interim);
      http::response_serializer<http::buffer_body> isr(interim);
      interim.body().more = false;
      c_.stream->arm(cfg_.timeouts.client);
      auto [wec, wn] = co_await http::async_write(*c_.stream, isr, use_nothrow);
      w_.bump(&Counters::bytes_to_clients, static_cast<std::int64_t>(wn));
      if (wec) co_return co_await fail(ErrorKind::client_aborted);
    }
    if (status == 100 && !body_sent_) {
      if (co_await send_body() != Step::ok) co_return Step::failed;
    }
  }
}

asio::awaitable<ConnFate> Exchange::forward_response() {
  auto& sc = *lease_.conn;
  const ResponseFacts rf = response_facts(*rsp_);
  ConnFate cfate = client_fate_on_response(cfg_.client.keep_alive, client_fate_, facts_, rf);
  ConnFate sfate = server_fate_on_response(server_fate_, facts_, rf);
  if (!body_sent_ && cfate != ConnFate::tunnel) {
    // The final response came before the body (e.g. refused 100-continue): the unread body
    // makes both connections unusable for another message.
    cfate = ConnFate::close;
    sfate = ConnFate::close;
  }
  if (w_.stopping && cfate == ConnFate::keep_alive) cfate = ConnFate::close;
  const ClientFraming framing = client_framing(facts_, rf);
  OutResponse out;
  make_client_response(*rsp_, facts_, cfate, framing, opts_, out);
  http::response_serializer<http::buffer_body> sr(out);
  const bool body = !rsp_->is_done();
  out.body().data = nullptr;
  out.body().size = 0;
  out.body().more = body;
  const auto head_sent = [&](Clock::time_point at) {
    response_started_ = true;
    log_.status = rf.status;
    w_.bump(&Counters::responses);
    w_.emit_at(at, EventKind::response_head_sent, Side::client, c_.id, log_.request, rf.status);
  };
  // The head waits for the body only when body bytes are already here (one write, no delay).
  if (!body || sc.buffer.size() == 0) {
    c_.stream->arm(cfg_.timeouts.client);
    auto [ec, n] = body ? co_await http::async_write_header(*c_.stream, sr, use_nothrow)
                        : co_await http::async_write(*c_.stream, sr, use_nothrow);
    w_.bump(&Counters::bytes_to_clients, static_cast<std::int64_t>(n));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      co_await fail(ErrorKind::client_aborted);
      co_return ConnFate::close;
    }
    head_sent(Clock::now());
  }
  if (body) {
    const Relay relay = co_await relay_body(*sc.stream, sc.buffer, *rsp_, cfg_.timeouts.server,
                                            *c_.stream, sr, out, cfg_.timeouts.client);
    if (!response_started_ && relay.first_write) head_sent(*relay.first_write);
    log_.bytes_out = relay.body_bytes;
    w_.bump(&Counters::bytes_from_servers, static_cast<std::int64_t>(relay.body_bytes));
    w_.bump(&Counters::bytes_to_clients, static_cast<std::int64_t>(relay.wire_bytes));
    if (relay.end != RelayEnd::done) {
      const bool client_gone =
          relay.end == RelayEnd::to_failed || relay.end == RelayEnd::to_timeout;
      co_await fail(client_gone                          ? ErrorKind::client_aborted
                    : relay.end == RelayEnd::from_timeout ? ErrorKind::gateway_timeout
                                                          : ErrorKind::bad_gateway);
      co_return ConnFate::close;
    }
  }
  w_.emit(EventKind::response_end, Side::client, c_.id, log_.request,
          static_cast<std::int64_t>(log_.bytes_out));
  if (cfate == ConnFate::tunnel) {
    co_await tunnel();
    drop_server();
    co_return ConnFate::close;
  }
  release(w_, lease_, sfate == ConnFate::keep_alive);
  c_.current_server = nullptr;
  co_return cfate;
}

asio::awaitable<void> Exchange::tunnel() {
  auto& sc = *lease_.conn;
  w_.emit(EventKind::tunnel_start, Side::client, c_.id, log_.request);
  // Bytes that arrived behind the heads belong to the tunnel.
  auto [e1, n1] = co_await asio::async_write(*sc.stream, c_.buffer.data(), use_nothrow);
  c_.buffer.consume(n1);
  auto [e2, n2] = co_await asio::async_write(*c_.stream, sc.buffer.data(), use_nothrow);
  sc.buffer.consume(n2);
  if (e1 || e2) co_return;
  const auto timeout = std::max(cfg_.timeouts.client, cfg_.timeouts.server);
  co_await (pipe(*c_.stream, *sc.stream, timeout) && pipe(*sc.stream, *c_.stream, timeout));
}

}  // namespace

asio::awaitable<ConnFate> exchange(ClientConn& c, RequestParser& req, const RequestFacts& facts,
                                   ConnFate client_fate, AccessRecord& log) {
  Exchange x(c, req, facts, client_fate, log);
  co_return co_await x.run();
}

}  // namespace satlink::proxycore::detail
