#include "satlink/simulator/analytic.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <queue>

namespace satlink::simulator {

namespace {

constexpr double kMinRtoMs = 200;  // Linux's minimum RTO, as the link's (link_model.hpp)
constexpr double kNeverMs = std::numeric_limits<double>::infinity();

// One path as the prediction sees it: the client link, the server link, or both in series (the
// no-proxy baseline).
struct Path {
  double rtt_ms = 0;
  double rate_bps = 0;    // the downlink's; 0 = unlimited
  double setup_rtts = 0;  // h_tcp + h_tls
  bool slow_start = false;
  bool restart_after_idle = true;
  std::uint64_t initial_window_bytes = 0;

  double setup_ms() const { return setup_rtts * rtt_ms; }
  double rto_ms() const { return std::max(kMinRtoMs, 2 * rtt_ms); }
  double serialization_ms(std::uint64_t bytes) const {
    return rate_bps > 0 ? static_cast<double>(bytes) * 8e3 / rate_bps : 0;
  }
  // The link stops growing the window at the bandwidth-delay product (link_model.cpp).
  std::uint64_t max_window() const {
    if (rate_bps <= 0) return std::numeric_limits<std::uint64_t>::max();
    return std::max(initial_window_bytes, static_cast<std::uint64_t>(rate_bps * rtt_ms / 8e3));
  }
};

// A sender's congestion window in slow start, grown as the link grows it: by the bytes
// acknowledged per round, up to the bandwidth-delay product; back to the initial window after
// an idle period longer than the RTO (restart_after_idle). Whole responses, whole rounds.
struct Window {
  std::uint64_t cwnd = 0;           // 0: a fresh connection
  std::uint64_t sent_in_round = 0;  // in the last round
  double last_round_ms = 0;         // when the last round left (the link's last send)

  // Rounds k to send `bytes` whose first round leaves at t_ms; 1 without slow start.
  std::uint32_t send(std::uint64_t bytes, double t_ms, const Path& p) {
    if (!p.slow_start) return 1;
    if (cwnd == 0 || (p.restart_after_idle && t_ms - last_round_ms > p.rto_ms())) {
      cwnd = p.initial_window_bytes;
      sent_in_round = 0;
    }
    std::uint32_t rounds = 0;
    std::uint64_t left = bytes;
    do {  // a round starts when the previous one's ACKs are back: they grow the window
      cwnd = std::min(cwnd + sent_in_round, std::max(cwnd, p.max_window()));
      sent_in_round = std::min(left, cwnd);
      left -= sent_in_round;
      ++rounds;
    } while (left > 0);
    last_round_ms = t_ms + (rounds - 1) * p.rtt_ms;
    return rounds;
  }
};

// A downlink's bottleneck, shared by every connection of the link: a FIFO of whole responses
// in the order they become ready (the link's queue interleaves pieces instead; the last byte of
// a burst leaves at the same time either way).
struct Bottleneck {
  double busy_until_ms = 0;

  // When the last byte of a transfer of `ms` ready at `ready_ms` has left; a proxy relaying a
  // body cannot finish before its last byte has come in (`not_before_ms`).
  double claim(double ready_ms, double ms, double not_before_ms) {
    if (ms <= 0) return std::max(ready_ms, not_before_ms);  // no rate limit: no queue
    const double start = std::max({ready_ms, busy_until_ms, not_before_ms - ms});
    busy_until_ms = start + ms;
    return busy_until_ms;
  }
};

struct ClientConnection {
  bool busy = false;
  bool open = true;
  std::uint32_t requests = 0;
  double idle_since_ms = 0;
  Window window;  // of its downlink (responses)
};

struct ServerConnection {
  double free_at_ms = kNeverMs;  // when its response has fully reached the proxy
  bool reusable = false;         // server keep-alive
  Window window;
};

struct Request {
  std::uint64_t bytes = 0;
  std::size_t client = 0;
  bool first_on_client = false;
  std::size_t server = 0;
  double first_byte_ms = 0;   // the response's first byte leaves the proxy (origin)
  double server_done_ms = 0;  // its last byte has reached the proxy (= first_byte, no proxy)
};

enum class Step : std::uint8_t { arrive, server_ready, client_ready, done };

struct Event {
  double t_ms = 0;
  std::uint64_t seq = 0;  // ties keep their scheduling order: deterministic
  Step step = Step::arrive;
  std::size_t request = 0;
  bool operator>(const Event& o) const { return t_ms != o.t_ms ? t_ms > o.t_ms : seq > o.seq; }
};

// One page load: the browser's list scheduling over its connections, the proxy's pool, the
// links' slow start and bottlenecks, all driven by events in time order.
class PageLoad {
 public:
  PageLoad(const PredictionInput& in, PredictionModel model);
  Prediction run();

 private:
  void push(double t, Step step, std::size_t request);
  void dispatch_pending(double t);
  std::optional<std::size_t> take_client_connection();
  void send(std::size_t request, std::size_t conn, double t);
  void arrive(std::size_t i, double t);
  std::size_t take_server_connection(const Request& r, double t, bool& fresh);
  void server_ready(std::size_t i, double t);
  void schedule_client_transfer(std::size_t i, double t);
  void done(std::size_t request, double t);

  const PredictionInput& in_;
  std::uint32_t limit_;
  Path front_;  // browser <-> proxy, or browser <-> origin through both links
  Path back_;   // proxy <-> origin
  Bottleneck front_down_, back_down_;
  std::vector<Request> requests_;
  std::vector<ClientConnection> client_;
  std::vector<ServerConnection> server_;
  std::uint32_t open_ = 0;
  std::size_t next_ = 1;  // the next resource to request (0 is the HTML)
  bool discovered_ = false;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t seq_ = 0;
  Prediction out_;
};

PageLoad::PageLoad(const PredictionInput& in, PredictionModel model)
    : in_(in), limit_(std::max<std::uint32_t>(in.connections, 1)) {
  const double h_tcp = handshake_rtts(model);
  const double r = std::max(0.0, in.client_rtt_ms), r_b = std::max(0.0, in.server_rtt_ms);
  const auto tls = [](int rtts) { return static_cast<double>(std::max(rtts, 0)); };
  Path common;
  common.slow_start = in.slow_start;
  common.restart_after_idle = in.restart_after_idle;
  common.initial_window_bytes = std::uint64_t{std::max<std::uint32_t>(in.initial_window, 1)} *
                                std::max<std::uint32_t>(in.mss, 1);
  front_ = back_ = common;
  front_.setup_rtts = h_tcp + tls(in.client_tls_rtts);
  back_.setup_rtts = h_tcp + tls(in.server_tls_rtts);
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
  requests_.push_back({.bytes = in.html_bytes});
  for (auto bytes : in.resource_bytes) requests_.push_back({.bytes = bytes});
}

void PageLoad::push(double t, Step step, std::size_t request) {
  events_.push({t, seq_++, step, request});
}

Prediction PageLoad::run() {
  client_.emplace_back();
  ++open_;
  send(0, 0, 0);
  while (!events_.empty()) {
    const Event e = events_.top();
    events_.pop();
    switch (e.step) {
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
  out_.client_connections = static_cast<std::uint32_t>(client_.size());
  out_.server_connections = static_cast<std::uint32_t>(in_.proxy ? server_.size() : client_.size());
  return out_;
}

// The browser requests each next resource as soon as a connection can take it.
void PageLoad::dispatch_pending(double t) {
  while (discovered_ && next_ < requests_.size()) {
    const auto conn = take_client_connection();
    if (!conn) return;
    send(next_++, *conn, t);
  }
}

// An idle keep-alive connection first (the most recently used, as browsers' socket pools take
// it), else a new one while fewer than the limit are open.
std::optional<std::size_t> PageLoad::take_client_connection() {
  if (in_.client_keep_alive) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < client_.size(); ++i) {
      const auto& c = client_[i];
      if (c.open && !c.busy && (!best || c.idle_since_ms > client_[*best].idle_since_ms)) best = i;
    }
    if (best) return best;
  }
  if (open_ >= limit_) return std::nullopt;
  client_.emplace_back();
  ++open_;
  return client_.size() - 1;
}

void PageLoad::send(std::size_t request, std::size_t conn, double t) {
  ClientConnection& c = client_[conn];
  Request& r = requests_[request];
  r.client = conn;
  r.first_on_client = c.requests++ == 0;
  c.busy = true;
  double leaves = t;
  if (r.first_on_client) {  // the set-up hold: the request leaves when the handshake is done
    leaves += front_.setup_ms();
    const double r_b = in_.proxy ? 0 : back_.rtt_ms;
    out_.client_setup_ms += front_.setup_rtts * (front_.rtt_ms - r_b);
    out_.server_setup_ms += front_.setup_rtts * r_b;
  }
  const double up_ms =
      in_.client_up_bps > 0 ? static_cast<double>(in_.request_bytes) * 8e3 / in_.client_up_bps : 0;
  push(leaves + up_ms + front_.rtt_ms / 2, Step::arrive, request);
}

// The request reaches the proxy (or, without one, the origin).
void PageLoad::arrive(std::size_t i, double t) {
  Request& r = requests_[i];
  if (!in_.proxy) {
    r.first_byte_ms = r.server_done_ms = t + in_.think_ms;
    schedule_client_transfer(i, t);
    return;
  }
  bool fresh = false;
  r.server = take_server_connection(r, t, fresh);
  r.first_byte_ms = t + (fresh ? back_.setup_ms() : 0) + back_.rtt_ms + in_.think_ms;
  // The origin sends half a server RTT before the first byte reaches the proxy.
  const double origin_sends = r.first_byte_ms - back_.rtt_ms / 2;
  const std::uint32_t rounds = server_[r.server].window.send(r.bytes, origin_sends, back_);
  push(r.first_byte_ms + (rounds - 1) * back_.rtt_ms, Step::server_ready, i);
}

// With server keep-alive, an idle pooled connection (the most recently released) if the reuse
// rule lets this request take one; else a new connection.
std::size_t PageLoad::take_server_connection(const Request& r, double t, bool& fresh) {
  const bool may_reuse =
      in_.server_keep_alive && (in_.server_reuse_across_clients || !r.first_on_client);
  std::optional<std::size_t> best;
  for (std::size_t i = 0; may_reuse && i < server_.size(); ++i) {
    const auto& s = server_[i];
    if (s.reusable && s.free_at_ms <= t && (!best || s.free_at_ms > server_[*best].free_at_ms))
      best = i;
  }
  fresh = !best;
  if (best) {
    server_[*best].free_at_ms = kNeverMs;
    return *best;
  }
  server_.push_back({.free_at_ms = kNeverMs, .reusable = in_.server_keep_alive, .window = {}});
  out_.server_setup_ms += back_.setup_ms();
  return server_.size() - 1;
}

// The origin's last round may leave: the server link's bottleneck decides when the body is in.
void PageLoad::server_ready(std::size_t i, double t) {
  Request& r = requests_[i];
  r.server_done_ms = back_down_.claim(t, back_.serialization_ms(r.bytes), 0);
  server_[r.server].free_at_ms = r.server_done_ms;  // back to the pool (or closed)
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
// discovers the resources.
void PageLoad::done(std::size_t request, double t) {
  out_.page_load_ms = std::max(out_.page_load_ms, t);
  ClientConnection& c = client_[requests_[request].client];
  c.busy = false;
  c.idle_since_ms = t;
  if (!in_.client_keep_alive) {
    c.open = false;
    --open_;
  }
  if (request == 0) {
    out_.html_ms = t;
    discovered_ = true;
  }
  dispatch_pending(t);
}

}  // namespace

Prediction predict(const PredictionInput& in, PredictionModel model) {
  return PageLoad(in, model).run();
}

double handshake_rtts(PredictionModel model) {
  return model == PredictionModel::seed ? 1.5 : 1.0;
}

std::string_view to_string(PredictionModel model) {
  return model == PredictionModel::seed ? "seed" : "tcp";
}

bool parse(std::string_view s, PredictionModel& out) {
  for (auto m : {PredictionModel::seed, PredictionModel::tcp})
    if (s == to_string(m)) return out = m, true;
  return false;
}

std::uint32_t slow_start_rounds(std::uint64_t bytes, std::uint32_t initial_window,
                                std::uint32_t mss) {
  Path p;
  p.slow_start = true;
  p.initial_window_bytes =
      std::uint64_t{std::max<std::uint32_t>(initial_window, 1)} * std::max<std::uint32_t>(mss, 1);
  return Window{}.send(bytes, 0, p);
}

}  // namespace satlink::simulator
