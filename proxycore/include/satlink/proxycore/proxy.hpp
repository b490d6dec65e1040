// The reverse proxy. Owns its worker threads (one io_context each, SO_REUSEPORT listeners) or
// runs on a caller's io_context (the workbench's testbed). No Boost types in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "satlink/proxycore/config.hpp"
#include "satlink/proxycore/counters.hpp"
#include "satlink/proxycore/events.hpp"

namespace boost::asio {
class io_context;
}

namespace satlink::proxycore {

class Proxy {
 public:
  // Validates what cannot be validated by the loader (addresses, TLS files). Throws
  // std::runtime_error with a clear message on failure. `sink` may be null; it must outlive the
  // proxy.
  explicit Proxy(ProxyConfig config, EventSink* sink = nullptr);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Binds the listeners (throws on failure) and runs `config.threads` worker threads.
  void start();
  // Binds and serves on the caller's io_context instead (one worker; threads is ignored).
  void start_on(boost::asio::io_context& ioc);

  // Stops accepting, closes idle connections, lets in-flight requests finish for up to
  // timeouts.grace, then closes everything. Returns at once; wait() joins the workers.
  void stop();
  void wait();

  std::uint16_t port() const;        // the bound client-side port
  std::uint16_t stats_port() const;  // 0 when the stats endpoint is off
  Counters counters() const;         // a snapshot summed over workers
  const ProxyConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace satlink::proxycore
