// satlink-proxy: the proxy core as a standalone daemon.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <malloc.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "satlink/proxycore/config_json.hpp"
#include "satlink/proxycore/proxy.hpp"

namespace {

using namespace satlink::proxycore;

constexpr const char* kUsage =
    "usage: satlink-proxy --config FILE [--check] [--access-log FILE|-]\n"
    "  --config FILE      proxy configuration (JSON; same shape as a scenario's \"proxy\")\n"
    "  --check            validate the configuration and exit (0 = valid)\n"
    "  --access-log FILE  write one line per request to FILE (\"-\" = stdout)\n"
    "  --help             this text\n"
    "Stops gracefully on SIGINT/SIGTERM (in-flight requests get timeouts.grace_ms).\n";

class AccessLog final : public EventSink {
 public:
  explicit AccessLog(std::FILE* f) : file_(f) {}
  void on_access(const AccessRecord& r) noexcept override {
    const std::string line = format_access_line(r);
    std::lock_guard lock(mutex_);
    std::fprintf(file_, "%s\n", line.c_str());
    std::fflush(file_);
  }

 private:
  std::FILE* file_;
  std::mutex mutex_;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "satlink-proxy: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file, access_log_file;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--config") {
      if (!has_value) return usage_error("--config needs a file");
      config_file = argv[++i];
    } else if (arg == "--access-log") {
      if (!has_value) return usage_error("--access-log needs a file or -");
      access_log_file = argv[++i];
    } else {
      return usage_error("unknown argument \"" + arg + "\"");
    }
  }
  if (config_file.empty()) return usage_error("--config is required");

  const ConfigResult loaded = proxy_config_from_file(config_file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "satlink-proxy: %s is not valid:\n%s", config_file.c_str(),
                 format_errors(loaded.errors).c_str());
    return 2;
  }
  if (check) {
    try {
      Proxy probe(loaded.config);  // TLS files, addresses, server names: what start would check
    } catch (const std::exception& e) {
      std::fprintf(stderr, "satlink-proxy: %s is not valid: %s\n", config_file.c_str(), e.what());
      return 2;
    }
    std::printf("%s: configuration OK\n", config_file.c_str());
    return 0;
  }

  std::FILE* log_file = nullptr;
  if (access_log_file == "-") {
    log_file = stdout;
  } else if (!access_log_file.empty()) {
    log_file = std::fopen(access_log_file.c_str(), "a");
    if (!log_file) {
      std::fprintf(stderr, "satlink-proxy: cannot open %s: %s\n", access_log_file.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  AccessLog access_log(log_file);
  try {
    Proxy proxy(loaded.config, log_file ? &access_log : nullptr);
    proxy.start();
    const auto& c = proxy.config();
    std::printf("satlink-proxy listening on %s://%s:%u (%u thread%s)\n",
                c.client.tls.enabled ? "https" : "http", c.client.bind.c_str(), proxy.port(),
                c.threads, c.threads == 1 ? "" : "s");
    if (proxy.stats_port() != 0)
      std::printf("stats: http://%s:%u/stats (JSON), /stats.csv\n", c.stats.bind.c_str(),
                  proxy.stats_port());
    std::fflush(stdout);

    boost::asio::io_context signals_ioc;
    boost::asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      std::fprintf(stderr, "satlink-proxy: signal %d, stopping (grace %lld ms)\n", sig,
                   static_cast<long long>(c.timeouts.grace.count()));
      proxy.stop();
    });
    // Bursts leave freed buffers scattered in the heap, which glibc keeps: every few seconds the
    // free pages go back to the system, so idle connections cost what they hold, not the peak.
    // The daemon's business, not the library's: a process embedding many proxies (the
    // experiment engine runs dozens of trials at once) trims as it sees fit.
    boost::asio::steady_timer trim_timer(signals_ioc);
    std::function<void()> trim_periodically = [&] {
      trim_timer.expires_after(std::chrono::seconds(2));
      trim_timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        ::malloc_trim(0);
        trim_periodically();
      });
    };
    trim_periodically();
    std::thread signal_thread([&] { signals_ioc.run(); });
    proxy.wait();
    signals_ioc.stop();
    signal_thread.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "satlink-proxy: %s\n", e.what());
    return 1;
  }
  if (log_file && log_file != stdout) std::fclose(log_file);
  return 0;
}
