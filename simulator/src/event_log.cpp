#include "satlink/simulator/event_log.hpp"

namespace satlink::simulator {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view to_string(Component c) {
  switch (c) {
    case Component::client: return "client";
    case Component::client_link: return "client_link";
    case Component::proxy: return "proxy";
    case Component::server_link: return "server_link";
    case Component::origin: return "origin";
  }
  return "?";
}

std::string_view to_string(LinkEvent k) {
  switch (k) {
    case LinkEvent::accept: return "accept";
    case LinkEvent::setup_start: return "setup_start";
    case LinkEvent::setup_end: return "setup_end";
    case LinkEvent::target_connect: return "target_connect";
    case LinkEvent::chunk_in: return "chunk_in";
    case LinkEvent::chunk_out: return "chunk_out";
    case LinkEvent::loss: return "loss";
    case LinkEvent::fin: return "fin";
    case LinkEvent::reset: return "reset";
    case LinkEvent::close: return "close";
    case LinkEvent::config_change: return "config_change";
  }
  return "?";
}

std::string_view to_string(OriginEvent k) {
  switch (k) {
    case OriginEvent::accept: return "accept";
    case OriginEvent::tls_handshake_start: return "tls_handshake_start";
    case OriginEvent::tls_handshake_end: return "tls_handshake_end";
    case OriginEvent::request: return "request";
    case OriginEvent::response_start: return "response_start";
    case OriginEvent::response_end: return "response_end";
    case OriginEvent::idle: return "idle";
    case OriginEvent::close: return "close";
    case OriginEvent::occupancy: return "occupancy";
  }
  return "?";
}

std::string_view to_string(ClientEvent k) {
  switch (k) {
    case ClientEvent::page_start: return "page_start";
    case ClientEvent::page_end: return "page_end";
    case ClientEvent::request_queued: return "request_queued";
    case ClientEvent::connect_start: return "connect_start";
    case ClientEvent::connect_end: return "connect_end";
    case ClientEvent::tls_start: return "tls_start";
    case ClientEvent::tls_end: return "tls_end";
    case ClientEvent::request_start: return "request_start";
    case ClientEvent::request_sent: return "request_sent";
    case ClientEvent::response_start: return "response_start";
    case ClientEvent::response_end: return "response_end";
    case ClientEvent::error: return "error";
    case ClientEvent::close: return "close";
  }
  return "?";
}

std::string_view to_string(ClientError k) {
  switch (k) {
    case ClientError::none: return "none";
    case ClientError::connect_failed: return "connect_failed";
    case ClientError::tls_failed: return "tls_failed";
    case ClientError::io_error: return "io_error";
    case ClientError::bad_response: return "bad_response";
    case ClientError::wrong_body: return "wrong_body";
    case ClientError::http_status: return "http_status";
    case ClientError::timeout: return "timeout";
    case ClientError::cancelled: return "cancelled";
  }
  return "?";
}

std::string_view kind_name(const LogEvent& e) {
  switch (e.component) {
    case Component::client_link:
    case Component::server_link: return to_string(static_cast<LinkEvent>(e.kind));
    case Component::origin: return to_string(static_cast<OriginEvent>(e.kind));
    case Component::proxy: return proxycore::to_string(static_cast<proxycore::EventKind>(e.kind));
    case Component::client: return to_string(static_cast<ClientEvent>(e.kind));
  }
  return "?";
}

void EventLog::add(const LogEvent& e) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
  }
  changed_.notify_all();
}

std::vector<LogEvent> EventLog::events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

std::size_t EventLog::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

void EventLog::clear() {
  std::lock_guard lock(mutex_);
  events_.clear();
}

bool EventLog::wait_for(const std::function<bool(const EventList&)>& pred,
                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(events_); });
}

namespace {

class ProxySink final : public proxycore::EventSink {
 public:
  explicit ProxySink(EventLog& log) : log_(log) {}
  void on_event(const proxycore::Event& e) noexcept override {
    LogEvent out;
    out.t_ns = e.t_ns;
    out.component = Component::proxy;
    out.kind = static_cast<std::uint8_t>(e.kind);
    out.dir = static_cast<std::uint8_t>(e.side);
    out.conn = e.conn;
    out.request = e.request;
    out.a = e.value;
    log_.add(out);
  }

 private:
  EventLog& log_;
};

}  // namespace

std::unique_ptr<proxycore::EventSink> EventLog::proxy_sink() {
  return std::make_unique<ProxySink>(*this);
}

}  // namespace satlink::simulator
