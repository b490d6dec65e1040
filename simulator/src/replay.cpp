// The replay client's page-load scheduler: users, the browser's connection scheduling (reuse
// idle connections, open new ones up to the limit, otherwise wait; pipelining), requests'
// outcomes and retries, cancel and timeout. Each connection's coroutine (connect, TLS, the
// exchange) is in replay_exchange.cpp; the state both share in replay_state.hpp; streams, TLS
// and response parsing in replay_connection.hpp. Every handler of one Replay runs on one strand,
// so the state needs no locks (except what cancel() touches).
#include "satlink/simulator/replay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <stdexcept>

#include "replay_connection.hpp"
#include "replay_state.hpp"

namespace satlink::simulator {

using namespace replay_detail;

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
