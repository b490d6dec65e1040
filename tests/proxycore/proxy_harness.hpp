// A proxy in front of a TestOrigin, with an event sink that records everything.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "satlink/proxycore/proxy.hpp"
#include "test_client.hpp"
#include "test_origin.hpp"

namespace satlink::test {

class RecordingSink final : public proxycore::EventSink {
 public:
  void on_event(const proxycore::Event& e) noexcept override {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    }
    cv_.notify_all();
  }
  // Waits (bounded) until `n` events of the kind have been recorded; returns whether they were.
  bool wait_for(proxycore::EventKind k, proxycore::Side s, std::size_t n,
                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] {
      std::size_t got = 0;
      for (const auto& e : events_) got += e.kind == k && e.side == s;
      return got >= n;
    });
  }
  void on_access(const proxycore::AccessRecord& r) noexcept override {
    std::lock_guard lock(mutex_);
    access_.push_back(r);
  }
  std::size_t count(proxycore::EventKind k, proxycore::Side s) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : events_) n += e.kind == k && e.side == s;
    return n;
  }
  std::vector<proxycore::Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<proxycore::AccessRecord> access() const {
    std::lock_guard lock(mutex_);
    return access_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<proxycore::Event> events_;
  std::vector<proxycore::AccessRecord> access_;
};

struct ProxyHarness {
  explicit ProxyHarness(TestOrigin::Handler handler = {},
                        const std::function<void(proxycore::ProxyConfig&)>& tweak = {},
                        TestOrigin::Options origin_options = {})
      : origin(std::move(handler), origin_options) {
    proxycore::ProxyConfig c;
    c.client.port = 0;
    c.threads = 1;
    c.timeouts.grace = std::chrono::milliseconds(2000);
    proxycore::BackendConfig b;
    b.name = "origin";
    proxycore::ServerConfig s;
    s.name = "s1";
    s.port = origin.port();
    b.servers.push_back(s);
    c.backends.push_back(b);
    if (tweak) tweak(c);
    proxy = std::make_unique<proxycore::Proxy>(c, &sink);
    proxy->start();
  }
  ~ProxyHarness() { stop(); }
  // Stops and joins the proxy: every counter and event is final afterwards.
  void stop() {
    if (!proxy) return;
    origin.stop();  // first, so no exchange waits on a hanging origin
    proxy->stop();
    proxy->wait();
    stopped_counters = proxy->counters();
    proxy.reset();
  }
  std::uint16_t port() const { return proxy->port(); }

  TestOrigin origin;
  RecordingSink sink;
  std::unique_ptr<proxycore::Proxy> proxy;
  proxycore::Counters stopped_counters;
};

}  // namespace satlink::test
