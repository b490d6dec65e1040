// The analytic prediction's page load (docs/analytic.md gives the rules): the users' browsers
// with their list scheduling, the proxy's pool, TLS sessions, the links' slow start and
// bottlenecks, all driven by events in time order. Pure: no sockets, no clock.
#include <cstddef>
#include <functional>
#include <optional>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "analytic_model.hpp"
#include "satlink/simulator/analytic.hpp"

namespace satlink::simulator {

namespace {

using analytic_detail::Bottleneck;
using analytic_detail::Path;
using analytic_detail::TlsSession;
using analytic_detail::Window;

struct ClientConnection {
  bool busy = false;
  bool open = true;
  std::uint32_t requests = 0;
  double idle_since_ms = 0;
  Window window;  // of its downlink (responses)
};

struct ServerConnection {
  bool reusable = false;  // server keep-alive
  Window window;
};

struct Request {
  std::uint64_t bytes = 0;
  std::size_t user = 0;
  std::size_t client = 0;
  bool first_on_client = false;
  std::size_t server = 0;
  double first_byte_ms = 0;   // the response's first byte leaves the proxy (origin)
  double server_done_ms = 0;  // its last byte has reached the proxy (= first_byte, no proxy)
};

// One browser: its own connections (up to the limit), its own schedule and TLS session.
struct User {
  std::size_t html = 0;            // its HTML's index in requests_
  std::size_t next = 0, end = 0;   // its resources not requested yet: [next, end)
  std::vector<std::size_t> conns;  // its connections, indices into client_
  std::uint32_t open = 0;
  bool discovered = false;
  TlsSession session;  // the replay client keeps one per user (replay_connection.hpp)
  double html_ms = 0, page_ms = 0;
};

enum class Step : std::uint8_t { request_ready, arrive, server_ready, client_ready, done };

struct Event {
  double t_ms = 0;
  std::uint64_t seq = 0;  // ties keep their scheduling order: deterministic
  Step step = Step::arrive;
  std::size_t request = 0;
  bool operator>(const Event& o) const { return t_ms != o.t_ms ? t_ms > o.t_ms : seq > o.seq; }
};

class PageLoad {
 public:
  PageLoad(const PredictionInput& in, PredictionModel model);
  Prediction run();

 private:
  void push(double t, Step step, std::size_t request);
  void dispatch_pending(std::size_t user, double t);
  std::optional<std::size_t> take_client_connection(std::size_t user);
  void send(std::size_t request, std::size_t conn, double t);
  double up_ms() const;
  void arrive(std::size_t i, double t);
  std::size_t take_server_connection(const Request& r, double t, double& setup_rtts);
  void server_ready(std::size_t i, double t);
  void schedule_client_transfer(std::size_t i, double t);
  void done(std::size_t request, double t);

  const PredictionInput& in_;
  std::uint32_t limit_;
  Path front_;  // browser <-> proxy, or browser <-> origin through both links
  Path back_;   // proxy <-> origin
  Bottleneck front_up_, front_down_, back_down_;
  TlsSession server_session_;  // the proxy's, shared by all its server connections
  std::vector<Request> requests_;
  std::vector<User> users_;
  std::vector<ClientConnection> client_;
  std::vector<ServerConnection> server_;
  // The pool: reusable server connections not in use, as (-released at, index). In set order
  // the first one released by t is the most recently released, ties to the oldest connection.
  std::set<std::pair<double, std::size_t>> idle_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t seq_ = 0;
  Prediction out_;
};

PageLoad::PageLoad(const PredictionInput& in, PredictionModel model)
    : in_(in), limit_(std::max<std::uint32_t>(in.connections, 1)) {
  const double h_tcp = handshake_rtts(model);
  const double r = std::max(0.0, in.client_rtt_ms), r_b = std::max(0.0, in.server_rtt_ms);
  const auto tls = [](int rtts) { return static_cast<double>(std::max(rtts, 0)); };
  // Without resumption a resumed handshake costs what a full one does.
  const auto resumed = [&tls](int full, int rtts) { return rtts < 0 ? tls(full) : tls(rtts); };
  Path common;
  common.slow_start = in.slow_start;
  common.restart_after_idle = in.restart_after_idle;
  common.initial_window_bytes = std::uint64_t{std::max<std::uint32_t>(in.initial_window, 1)} *
                                std::max<std::uint32_t>(in.mss, 1);
  front_ = back_ = common;
  front_.setup_rtts = h_tcp + tls(in.client_tls_rtts);
  front_.resumed_setup_rtts = h_tcp + resumed(in.client_tls_rtts, in.client_tls_resumed_rtts);
  back_.setup_rtts = h_tcp + tls(in.server_tls_rtts);
  back_.resumed_setup_rtts = h_tcp + resumed(in.server_tls_rtts, in.server_tls_resumed_rtts);
  back_.rtt_ms = r_b;
  back_.rate_bps = in.server_down_bps;
  if (in.proxy) {
    front_.rtt_ms = r;
    front_.rate_bps = in.client_down_bps;
  } else {  // in series: one RTT, the slower downlink (0 = unlimited)
    front_.rtt_ms = r + r_b;
    const double a = in.client_down_bps, b = in.server_down_bps;
    front_.rate_bps = a <= 0 ? b : (b <= 0 ? a : std::min(a, b));
  }
  const std::size_t users = std::max<std::uint32_t>(in.users, 1);
  const std::size_t per_user = in.resource_bytes.size() + 1;
  requests_.resize(users * per_user);
  users_.resize(users);
  for (std::size_t u = 0; u < users; ++u) {
    User& user = users_[u];
    user.html = u * per_user;
    user.next = user.html + 1;
    user.end = user.html + per_user;
    for (std::size_t i = 0; i < per_user; ++i) {
      Request& req = requests_[user.html + i];
      req.bytes = i == 0 ? in.html_bytes : in.resource_bytes[i - 1];
      req.user = u;
    }
  }
}

void PageLoad::push(double t, Step step, std::size_t request) {
  events_.push({t, seq_++, step, request});
}

Prediction PageLoad::run() {
  // The users start together, each with its HTML on a new connection, in the order the replay
  // client starts them.
  for (std::size_t u = 0; u < users_.size(); ++u) {
    client_.emplace_back();
    users_[u].conns.push_back(client_.size() - 1);
    ++users_[u].open;
    send(users_[u].html, client_.size() - 1, 0);
  }
  while (!events_.empty()) {
    const Event e = events_.top();
    events_.pop();
    switch (e.step) {
      case Step::request_ready:  // the uplink is a FIFO too: requests queue on it in order
        push(front_up_.claim(e.t_ms, up_ms(), 0) + front_.rtt_ms / 2, Step::arrive, e.request);
        break;
      case Step::arrive:
        arrive(e.request, e.t_ms);
        break;
      case Step::server_ready:
        server_ready(e.request, e.t_ms);
        break;
      case Step::client_ready: {
        const Request& r = requests_[e.request];
        const double ser = front_.serialization_ms(r.bytes);
        const double last = front_down_.claim(e.t_ms, ser, r.server_done_ms);
        push(last + front_.rtt_ms / 2, Step::done, e.request);
        break;
      }
      case Step::done:
        done(e.request, e.t_ms);
        break;
    }
  }
  // Per-user times are averaged, as the measured page_load_ms is (docs/metrics.md).
  double page_sum = 0, html_sum = 0;
  for (const User& u : users_) {
    page_sum += u.page_ms;
    html_sum += u.html_ms;
    out_.page_load_max_ms = std::max(out_.page_load_max_ms, u.page_ms);
  }
  out_.page_load_ms = page_sum / static_cast<double>(users_.size());
  out_.html_ms = html_sum / static_cast<double>(users_.size());
  out_.client_connections = static_cast<std::uint32_t>(client_.size());
  out_.server_connections = static_cast<std::uint32_t>(in_.proxy ? server_.size() : client_.size());
  return out_;
}

// The browser requests each next resource as soon as a connection can take it.
void PageLoad::dispatch_pending(std::size_t user, double t) {
  User& u = users_[user];
  while (u.discovered && u.next < u.end) {
    const auto conn = take_client_connection(user);
    if (!conn) return;
    send(u.next++, *conn, t);
  }
}

// An idle keep-alive connection of this user first (the most recently used, as browsers'
// socket pools take it), else a new one while the user has fewer than the limit open.
std::optional<std::size_t> PageLoad::take_client_connection(std::size_t user) {
  User& u = users_[user];
  if (in_.client_keep_alive) {
    std::optional<std::size_t> best;
    for (std::size_t i : u.conns) {
      const auto& c = client_[i];
      if (c.open && !c.busy && (!best || c.idle_since_ms > client_[*best].idle_since_ms)) best = i;
    }
    if (best) return best;
  }
  if (u.open >= limit_) return std::nullopt;
  client_.emplace_back();
  u.conns.push_back(client_.size() - 1);
  ++u.open;
  return client_.size() - 1;
}

// One request on the uplink; 0 when no request size or no rate limit is given.
double PageLoad::up_ms() const {
  return in_.client_up_bps > 0 ? static_cast<double>(in_.request_bytes) * 8e3 / in_.client_up_bps
                               : 0;
}

void PageLoad::send(std::size_t request, std::size_t conn, double t) {
  ClientConnection& c = client_[conn];
  Request& r = requests_[request];
  r.client = conn;
  r.first_on_client = c.requests++ == 0;
  c.busy = true;
  double leaves = t;
  if (r.first_on_client) {  // the set-up hold: the request leaves when the handshake is done
    const double rtts = users_[r.user].session.open(t, front_);
    leaves += rtts * front_.rtt_ms;
    const double r_b = in_.proxy ? 0 : back_.rtt_ms;
    out_.client_setup_ms += rtts * (front_.rtt_ms - r_b);
    out_.server_setup_ms += rtts * r_b;
  }
  // Without uplink serialisation the request needs no place in the uplink's queue.
  if (up_ms() > 0) {
    push(leaves, Step::request_ready, request);
  } else {
    push(leaves + front_.rtt_ms / 2, Step::arrive, request);
  }
}

// The request reaches the proxy (or, without one, the origin).
void PageLoad::arrive(std::size_t i, double t) {
  Request& r = requests_[i];
  if (!in_.proxy) {
    r.first_byte_ms = r.server_done_ms = t + in_.think_ms;
    schedule_client_transfer(i, t);
    return;
  }
  double setup_rtts = 0;
  r.server = take_server_connection(r, t, setup_rtts);
  r.first_byte_ms = t + setup_rtts * back_.rtt_ms + back_.rtt_ms + in_.think_ms;
  // The origin sends half a server RTT before the first byte reaches the proxy.
  const double origin_sends = r.first_byte_ms - back_.rtt_ms / 2;
  const std::uint32_t rounds = server_[r.server].window.send(r.bytes, origin_sends, back_);
  push(r.first_byte_ms + (rounds - 1) * back_.rtt_ms, Step::server_ready, i);
}

// With server keep-alive, an idle pooled connection (the most recently released) if the reuse
// rule lets this request take one; else a new connection, whose set-up RTTs (full or resumed
// TLS) are returned in setup_rtts (0 for a reused one).
std::size_t PageLoad::take_server_connection(const Request& r, double t, double& setup_rtts) {
  const bool may_reuse =
      in_.server_keep_alive && (in_.server_reuse_across_clients || !r.first_on_client);
  const auto idle = may_reuse ? idle_.lower_bound({-t, 0}) : idle_.end();
  if (idle != idle_.end()) {
    const std::size_t reused = idle->second;
    idle_.erase(idle);
    setup_rtts = 0;
    return reused;
  }
  ServerConnection fresh;
  fresh.reusable = in_.server_keep_alive;
  server_.push_back(fresh);
  setup_rtts = server_session_.open(t, back_);
  out_.server_setup_ms += setup_rtts * back_.rtt_ms;
  return server_.size() - 1;
}

// The origin's last round may leave: the server link's bottleneck decides when the body is in.
void PageLoad::server_ready(std::size_t i, double t) {
  Request& r = requests_[i];
  r.server_done_ms = back_down_.claim(t, back_.serialization_ms(r.bytes), 0);
  // Idle once the whole response has reached the proxy: back to the pool, or closed.
  if (server_[r.server].reusable) idle_.insert({-r.server_done_ms, r.server});
  schedule_client_transfer(i, t);
}

// The proxy streams the body on as it comes in: the client side's last round leaves after its
// slow-start rounds, and its last byte not before the server side's.
void PageLoad::schedule_client_transfer(std::size_t i, double t) {
  Request& r = requests_[i];
  const std::uint32_t rounds = client_[r.client].window.send(r.bytes, r.first_byte_ms, front_);
  const double ready = std::max({t, r.first_byte_ms + (rounds - 1) * front_.rtt_ms,
                                 r.server_done_ms - front_.serialization_ms(r.bytes)});
  push(ready, Step::client_ready, i);
}

// The last byte reached the browser: its connection is free (or closed); the HTML's end
// discovers the user's resources.
void PageLoad::done(std::size_t request, double t) {
  const std::size_t user = requests_[request].user;
  User& u = users_[user];
  u.page_ms = std::max(u.page_ms, t);
  ClientConnection& c = client_[requests_[request].client];
  c.busy = false;
  c.idle_since_ms = t;
  if (!in_.client_keep_alive) {
    c.open = false;
    --u.open;
  }
  if (request == u.html) {
    u.html_ms = t;
    u.discovered = true;
  }
  dispatch_pending(user, t);
}

}  // namespace

Prediction predict(const PredictionInput& in, PredictionModel model) {
  return PageLoad(in, model).run();
}

}  // namespace satlink::simulator
