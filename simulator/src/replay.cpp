// The replay client: users, the browser's connection scheduling (reuse idle connections, open
// new ones up to the limit, otherwise wait; pipelining), each connection's coroutine, cancel and
// timeout. Streams, TLS and response parsing are in replay_connection.hpp. Every handler of one
// Replay runs on one strand, so the state below needs no locks (except what cancel() touches).
#include "satlink/simulator/replay.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <stdexcept>

#include "replay_connection.hpp"

namespace satlink::simulator {

using namespace replay_detail;

struct User;

struct ReplayState : std::enable_shared_from_this<ReplayState> {
  ReplayState(ReplayOptions o, EventLog* l);

  const ReplayOptions options;
  EventLog* const log;
  tcp::endpoint endpoint;
  std::string sni;  // empty: none (numeric host)
  std::unique_ptr<asio::ssl::context> tls;
  std::size_t depth = 1;  // effective pipelining depth

  // On the strand.
  std::unique_ptr<asio::steady_timer> deadline;
  std::vector<std::shared_ptr<User>> users;
  std::uint64_t next_conn = 1, next_request = 1;
  std::uint32_t users_left = 0;
  ReplayResult result;
  std::function<void(const ReplayResult&)> done;

  // Shared with cancel() on any thread.
  std::mutex mutex;
  std::optional<Strand> strand;  // set by start_on, dropped when done
  bool cancel_requested = false;
  bool finished = false;  // done ran: the io_context may be gone, post nothing

  void emit(ClientEvent kind, std::uint64_t conn, std::uint64_t request, std::int64_t a = 0,
            std::int64_t b = 0, std::int64_t c = 0, std::int64_t t_ns = 0) const {
    log_client(log, kind, conn, request, a, b, c, t_ns);
  }
  void begin();
  void abort_all(ClientError reason);
  void user_done(bool ok);
};

// One browser: its queue of wanted URLs and its connections to the one host.
struct User : std::enable_shared_from_this<User> {
  User(ReplayState& s, std::uint32_t i) : core(s), index(i) {}
  ReplayState& core;
  const std::uint32_t index;
  std::vector<std::unique_ptr<Request>> requests;
  std::deque<Request*> queue;  // wanted, not on a connection yet (FIFO)
  std::vector<std::shared_ptr<Conn>> conns;
  std::size_t outstanding = 0;  // requests without their outcome yet
  bool failed = false, ended = false, reported = false;
  asio::steady_timer::time_point hold_until;  // idle_hold_ms after page_end
  ClientError abort_reason = ClientError::none;
  SessionSlot session;

  bool aborting() const { return abort_reason != ClientError::none; }
  void start();
  Request* add_request(std::uint32_t resource_index, std::string target);
  void on_page(const std::string& html);
  void dispatch();
  void assign(Conn& c);
  void open_connection();
  void fail(Request& r, std::uint64_t conn, ClientError err, const std::string& detail = "");
  void complete(Request& r, Conn& c, const Response& resp, const std::string& html);
  void finished(std::int64_t t_ns = 0);
  void abandon(Conn& c, ClientError err, bool head_fails, bool count_retry,
               const std::string& detail = "");
  void conn_ended(Conn& c);
  void abort(ClientError reason);
};

namespace {

asio::awaitable<bool> handshake(ReplayState& core, User& u, Conn& c, std::uint64_t request,
                                error_code& ec) {
  SSL* ssl = c.stream.tls()->native_handle();
  if (!core.sni.empty()) SSL_set_tlsext_host_name(ssl, core.sni.c_str());
  if (core.options.tls_resume) {
    SSL_set_ex_data(ssl, session_slot_index(), &u.session);
    if (u.session.get()) SSL_set_session(ssl, u.session.get());
  }
  core.emit(ClientEvent::tls_start, c.id, request);
  auto [hec] =
      co_await c.stream.tls()->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  ec = hec;
  const std::int64_t outcome = ec ? -1 : (SSL_session_reused(ssl) ? 1 : 0);
  core.emit(ClientEvent::tls_end, c.id, request, outcome, ec ? 0 : SSL_version(ssl));
  co_return !ec;
}

// TCP connect, then the TLS handshake: connect_end comes after both, so connect_end −
// connect_start is HAR's `connect` (which includes `ssl`).
asio::awaitable<bool> open(ReplayState& core, User& u, Conn& c) {
  const std::uint64_t request = c.inflight.front()->id;
  core.emit(ClientEvent::connect_start, c.id, request, u.index);
  error_code ec = asio::error::operation_aborted;
  if (!u.aborting()) {  // cancelled before the coroutine ran: no connection for nothing
    auto [cec] = co_await c.stream.socket().async_connect(core.endpoint, use_nothrow);
    ec = cec;
  }
  ClientError err = ClientError::connect_failed;
  std::int64_t local_port = 0;  // joins the client link's accept (its b) in the log
  if (!ec && !u.aborting()) {
    error_code ignored;
    c.stream.socket().set_option(tcp::no_delay(true), ignored);  // requests leave at once
    const auto local = c.stream.socket().local_endpoint(ignored);
    if (!ignored) local_port = local.port();
    err = ClientError::tls_failed;
    if (c.stream.tls()) co_await handshake(core, u, c, request, ec);
  }
  if (!ec && u.aborting()) ec = asio::error::operation_aborted;
  core.emit(ClientEvent::connect_end, c.id, request, ec ? (ec.value() != 0 ? ec.value() : -1) : 0,
            local_port);
  if (ec) {
    u.abandon(c, err, true, false, ec.message());
    co_return false;
  }
  c.connected = true;
  u.dispatch();  // with pipelining, the new connection may take more requests now
  co_return true;
}

asio::awaitable<bool> write_request(ReplayState& core, Conn& c, Request& r) {
  const std::string text = request_text(core.options, r.target);
  core.emit(ClientEvent::request_start, c.id, r.id, c.sent > 0 ? 1 : 0);
  ++c.sent;
  const error_code ec = co_await c.stream.write(text);
  if (ec) co_return false;
  core.emit(ClientEvent::request_sent, c.id, r.id);
  co_return true;
}

// After the load, a kept connection stays open (idle at the server) until the server closes
// it, the hold passes, or the replay is cancelled. Bytes from the server end it too.
asio::awaitable<void> hold_idle(User& u, Conn& c) {
  c.wake.expires_at(u.hold_until);
  c.wake.async_wait([conn = &c](error_code ec) {
    if (!ec) conn->stream.close();  // when not cancelled, the coroutine below is still reading
  });
  std::array<char, 4096> sink;
  co_await c.stream.read_some(asio::buffer(sink));
  c.wake.cancel();
}

// The connection's life after it is open: write what was assigned, read responses in order,
// wait idle for more, until the server or the user ends it.
asio::awaitable<void> serve(ReplayState& core, User& u, Conn& c) {
  for (;;) {
    if (u.aborting()) {
      u.abandon(c, u.abort_reason, true, false);
      co_return;
    }
    while (c.written < c.inflight.size()) {
      const bool ok = co_await write_request(core, c, *c.inflight[c.written]);
      if (!ok) {
        u.abandon(c, ClientError::io_error, c.answered == 0, true, "write failed");
        co_return;
      }
      ++c.written;
    }
    if (c.inflight.empty()) {
      if (u.ended && c.reusable && core.options.idle_hold_ms > 0) co_await hold_idle(u, c);
      if (!c.reusable || u.ended) co_return;
      c.parked = true;
      c.wake.expires_at(asio::steady_timer::time_point::max());
      co_await c.wake.async_wait(use_nothrow);  // dispatch() or the user's end cancels it
      c.parked = false;
      continue;
    }
    Request& r = *c.inflight.front();
    std::string html;
    const Response resp =
        co_await read_response(c.stream, c.buffer, c.last_read_ns, r.index == 0 ? &html : nullptr,
                               [&core, &c, &r](std::int64_t t) {
                                 core.emit(ClientEvent::response_start, c.id, r.id, 0, 0, 0, t);
                               });
    if (resp.error != ClientError::none) {
      // A reused connection closed before answering: the keep-alive race; send again.
      const bool race = !resp.got_bytes && c.answered > 0 && resp.error == ClientError::io_error;
      u.abandon(c, resp.error, !race, true, resp.ec.message());
      co_return;
    }
    c.inflight.pop_front();
    --c.written;
    ++c.answered;
    // Bytes nobody asked for: the connection's framing cannot be trusted any more.
    // (Our own Connection: close holds even if the server ignores it.)
    c.reusable =
        core.options.keep_alive && resp.keep && !(c.inflight.empty() && c.buffer.size() > 0);
    u.complete(r, c, resp, html);
    if (!c.reusable) {
      u.abandon(c, ClientError::none, false, false);  // what was pipelined behind goes again
      co_return;
    }
    u.dispatch();
  }
}

asio::awaitable<void> run_connection(std::shared_ptr<User> user, std::shared_ptr<Conn> conn) {
  User& u = *user;
  Conn& c = *conn;
  try {
    const bool up = co_await open(u.core, u, c);
    if (up) co_await serve(u.core, u, c);
  } catch (const std::exception& e) {
    u.abandon(c, ClientError::io_error, true, false, e.what());
  }
  u.conn_ended(c);
}

}  // namespace

// ---- User ---------------------------------------------------------------------------------

void User::start() {
  core.emit(ClientEvent::page_start, 0, 0, index);
  queue.push_back(add_request(0, core.options.page_path));
  dispatch();
}

Request* User::add_request(std::uint32_t resource_index, std::string target) {
  auto r = std::make_unique<Request>();
  r->id = core.next_request++;
  r->index = resource_index;
  r->target = std::move(target);
  core.result.requests.push_back({r->id, index, resource_index, r->target});
  core.emit(ClientEvent::request_queued, 0, r->id, resource_index, index);
  ++outstanding;
  requests.push_back(std::move(r));
  return requests.back().get();
}

void User::on_page(const std::string& html) {
  const std::vector<std::string> urls = html_resource_urls(html);
  for (std::size_t i = 0; i < urls.size(); ++i) {
    std::optional<std::string> target = resolve_target(core.options.page_path, urls[i]);
    if (target) queue.push_back(add_request(static_cast<std::uint32_t>(i + 1), std::move(*target)));
  }
}

// Idle keep-alive connections first, then new connections up to the limit, then (pipelining)
// the least loaded open connection with room; otherwise the queue waits for a connection.
void User::dispatch() {
  if (aborting() || ended) return;
  const std::size_t limit = core.options.connections_per_host;
  while (!queue.empty()) {
    Conn* idle = nullptr;
    Conn* roomy = nullptr;  // open, reusable, fewest requests in flight below the depth
    for (const auto& c : conns) {
      if (!c->connected || !c->reusable) continue;
      if (c->inflight.empty() && !idle) idle = c.get();
      if (c->inflight.size() < core.depth &&
          (!roomy || c->inflight.size() < roomy->inflight.size()))
        roomy = c.get();
    }
    if (idle) {
      assign(*idle);
    } else if (conns.size() < limit) {
      open_connection();
    } else if (roomy) {
      assign(*roomy);
    } else {
      return;
    }
  }
}

void User::assign(Conn& c) {
  while (!queue.empty() && c.inflight.size() < core.depth) {
    c.inflight.push_back(queue.front());
    queue.pop_front();
  }
  if (c.parked) c.wake.cancel();
}

void User::open_connection() {
  auto c = std::make_shared<Conn>(*core.strand, core.tls.get(), core.next_conn++);
  c->inflight.push_back(queue.front());  // the request that needs the connection
  queue.pop_front();
  conns.push_back(c);
  // The completion handler owns the state: nothing the coroutine uses is freed under it.
  const std::shared_ptr<User> self = shared_from_this();  // copied, not moved: g++ 12
  asio::co_spawn(*core.strand, run_connection(self, c),
                 [keep = core.shared_from_this(), c](std::exception_ptr e) { report_crash(e); });
}

void User::fail(Request& r, std::uint64_t conn, ClientError err, const std::string& detail) {
  core.emit(ClientEvent::error, conn, r.id, static_cast<std::int64_t>(err));
  failed = true;
  if (core.result.first_error.empty()) {
    core.result.first_error = "user " + std::to_string(index) + ": GET " + r.target + ": " +
                              std::string(to_string(err)) +
                              (detail.empty() ? "" : " (" + detail + ")");
  }
  finished();
}

void User::complete(Request& r, Conn& c, const Response& resp, const std::string& html) {
  core.emit(ClientEvent::response_end, c.id, r.id, resp.status,
            static_cast<std::int64_t>(resp.bytes), resp.checksum, resp.end_ns);
  if (resp.checksum == 0) return fail(r, c.id, ClientError::wrong_body, "checksum or length");
  if (resp.status >= 400)
    return fail(r, c.id, ClientError::http_status, "status " + std::to_string(resp.status));
  if (r.index == 0) on_page(html);  // queued before the page counts as done
  finished(resp.end_ns);
}

// t_ns: the last byte of the last response (0: now).
void User::finished(std::int64_t t_ns) {
  if (--outstanding > 0 || ended) return;
  ended = true;
  core.emit(ClientEvent::page_end, 0, 0, index, failed ? 0 : 1, 0, t_ns);
  hold_until = asio::steady_timer::clock_type::now() + to_duration(core.options.idle_hold_ms);
  for (const auto& c : conns)
    if (c->parked) c->wake.cancel();  // idle connections close (or hold) now
  if (conns.empty() && !reported) {
    reported = true;
    core.user_done(!failed);
  }
}

// The connection ends with requests on it. The head fails when its response was cut (or the
// connection could not be opened); the others were not answered and go back to the queue's
// front: RFC 9112 9.3.2, a client retries unanswered pipelined requests. A request that was
// sent and lost to a failure is retried once; requests left behind a closing response always.
void User::abandon(Conn& c, ClientError err, bool head_fails, bool count_retry,
                   const std::string& detail) {
  std::vector<Request*> again;
  for (std::size_t i = 0; i < c.inflight.size(); ++i) {
    Request* r = c.inflight[i];
    const bool sent = i < c.written;
    if (aborting()) {
      fail(*r, c.id, abort_reason);
    } else if ((i == 0 && head_fails) || (sent && count_retry && r->retried)) {
      fail(*r, c.id, err, detail);
    } else {
      if (sent && count_retry) r->retried = true;
      again.push_back(r);
    }
  }
  c.inflight.clear();
  c.written = 0;
  c.reusable = false;
  queue.insert(queue.begin(), again.begin(), again.end());
}

void User::conn_ended(Conn& c) {
  c.stream.close();
  if (c.connected) core.emit(ClientEvent::close, c.id, 0, static_cast<std::int64_t>(c.answered));
  std::erase_if(conns, [&c](const auto& p) { return p.get() == &c; });
  dispatch();  // a slot is free for what waits
  if (ended && conns.empty() && !reported) {
    reported = true;
    core.user_done(!failed);
  }
}

void User::abort(ClientError reason) {
  if (ended) {  // held idle connections close; nothing was left to fail
    for (const auto& c : conns) c->stream.close();
    return;
  }
  if (aborting()) return;
  abort_reason = reason;
  const std::deque<Request*> waiting = std::move(queue);
  queue.clear();
  for (Request* r : waiting) fail(*r, 0, reason);
  for (const auto& c : conns) {  // pending operations end; the coroutines fail their requests
    c->stream.close();
    c->wake.cancel();
  }
}

// ---- ReplayState --------------------------------------------------------------------------

ReplayState::ReplayState(ReplayOptions o, EventLog* l) : options(std::move(o)), log(l) {
  endpoint = check_options(options);
  // Pipelining is an HTTP/1.1 feature of persistent connections.
  if (options.keep_alive && options.http_version == HttpVersion::http11) depth = options.pipelining;
  sni = sni_name(options.host_header);
  if (options.tls) tls = make_tls_context(options.tls_version, options.tls_resume);
}

void ReplayState::begin() {
  users_left = options.users;
  for (std::uint32_t i = 0; i < options.users; ++i)
    users.push_back(std::make_shared<User>(*this, i));
  deadline = std::make_unique<asio::steady_timer>(*strand);
  deadline->expires_after(to_duration(options.timeout_ms));
  deadline->async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->abort_all(ClientError::timeout);
  });
  for (const auto& u : users) u->start();
  bool cancelled = false;
  {
    std::lock_guard lock(mutex);
    cancelled = cancel_requested;
  }
  if (cancelled) abort_all(ClientError::cancelled);
}

void ReplayState::abort_all(ClientError reason) {
  for (const auto& u : users) u->abort(reason);
}

void ReplayState::user_done(bool ok) {
  ++(ok ? result.users_ok : result.users_failed);
  if (--users_left > 0) return;
  // Nothing of the io_context may outlive this point (not even the strand): run()'s goes once
  // done has run. The connections' coroutines end with this handler.
  deadline.reset();
  {
    std::lock_guard lock(mutex);
    finished = true;
    strand.reset();
  }
  auto callback = std::move(done);
  if (callback) callback(result);
}

// ---- Replay -------------------------------------------------------------------------------

Replay::Replay(ReplayOptions options, EventLog* log)
    : state_(std::make_shared<ReplayState>(std::move(options), log)) {}

Replay::~Replay() {
  cancel();
}

void Replay::start_on(asio::io_context& ioc, std::function<void(const ReplayResult&)> done) {
  std::lock_guard lock(state_->mutex);
  if (state_->strand || state_->finished) throw std::logic_error("replay: already started");
  state_->done = std::move(done);
  state_->strand.emplace(asio::make_strand(ioc));
  asio::post(*state_->strand, [s = state_] { s->begin(); });
}

void Replay::cancel() {
  std::lock_guard lock(state_->mutex);
  state_->cancel_requested = true;
  if (state_->strand && !state_->finished)
    asio::post(*state_->strand, [s = state_] { s->abort_all(ClientError::cancelled); });
}

ReplayResult Replay::run() {
  asio::io_context ioc(1);
  ReplayResult out;
  start_on(ioc, [&out](const ReplayResult& r) { out = r; });
  ioc.run();
  return out;
}

const ReplayOptions& Replay::options() const {
  return state_->options;
}

}  // namespace satlink::simulator
