#include "test_origin.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>

#include "satlink/proxycore/self_signed.hpp"

namespace satlink::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

char pattern_byte(std::uint64_t offset) { return static_cast<char>('a' + offset % 26); }

std::string OriginRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return "";
}

std::size_t OriginRequest::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : headers) n += beast::iequals(k, name);
  return n;
}

struct TestOrigin::Impl {
  Handler handler;
  Options options;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::ssl::context> tls;
  std::string cert_pem;
  std::thread accept_thread;
  mutable std::mutex mutex;
  std::condition_variable stopped_cv;
  bool stopped = false;
  std::list<std::thread> conn_threads;
  std::vector<int> fds;
  std::vector<OriginRequest> received;
  std::size_t connections = 0, handshakes = 0, resumed = 0;
  std::uint64_t bytes = 0;

  template <class Stream>
  bool write_reply(Stream& s, const OriginReply& r) {
    beast::error_code ec;
    if (!r.raw.empty()) {
      asio::write(s, asio::buffer(r.raw), ec);
      return !ec;
    }
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(r.status))) +
                       "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    const bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
    const std::uint64_t size = r.stream_bytes ? r.stream_bytes : r.body.size();
    if (r.close || !options.keep_alive) head += "Connection: close\r\n";
    if (r.chunked)
      head += "Transfer-Encoding: chunked\r\n";
    else if (!r.no_length && !no_body)
      head += "Content-Length: " + std::to_string(size) + "\r\n";
    head += "\r\n";
    asio::write(s, asio::buffer(head), ec);
    if (ec || no_body) return !ec;
    if (r.stream_bytes) {
      std::string block(65536, 'x');
      for (std::uint64_t off = 0; off < size && !ec;) {
        const auto n = std::min<std::uint64_t>(block.size(), size - off);
        for (std::uint64_t i = 0; i < n; ++i) block[i] = pattern_byte(off + i);
        asio::write(s, asio::buffer(block.data(), n), ec);
        off += n;
      }
    } else if (r.chunked) {
      const std::size_t third = r.body.size() / 3 + 1;
      for (std::size_t off = 0; off < r.body.size() && !ec; off += third) {
        const auto piece = r.body.substr(off, third);
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
        asio::write(s, asio::buffer(size_line + piece + "\r\n"), ec);
      }
      asio::write(s, asio::buffer(std::string("0\r\n\r\n")), ec);
    } else {
      asio::write(s, asio::buffer(r.body), ec);
    }
    return !ec;
  }

  template <class Stream>
  void serve(Stream& s, std::size_t conn_index) {
    beast::flat_buffer buf;
    for (std::size_t n = 1;; ++n) {
      http::request_parser<http::string_body> p;
      p.body_limit(boost::none);
      beast::error_code ec;
      http::read_header(s, buf, p, ec);
      if (ec) return;
      if (beast::iequals(p.get()[http::field::expect], "100-continue")) {
        asio::write(s, asio::buffer(std::string("HTTP/1.1 100 Continue\r\n\r\n")), ec);
      }
      if (!p.is_done()) http::read(s, buf, p, ec);
      if (ec) return;
      OriginRequest req;
      req.method = p.get().method_string();
      req.target = p.get().target();
      req.version = static_cast<int>(p.get().version());
      for (const auto& f : p.get()) req.headers.emplace_back(f.name_string(), f.value());
      req.body = p.get().body();
      req.connection = conn_index;
      req.index_on_connection = n;
      OriginReply reply = handler ? handler(req) : OriginReply{};
      {
        std::lock_guard lock(mutex);
        received.push_back(req);
      }
      if (reply.drop) return;
      if (reply.hang) {
        std::unique_lock lock(mutex);
        stopped_cv.wait(lock, [&] { return stopped; });
        return;
      }
      if (reply.no_length) reply.close = true;
      if (!write_reply(s, reply)) return;
      if (reply.close || !options.keep_alive || !p.keep_alive()) return;
    }
  }

  // Called while the socket is still open, so stop() never shuts down a reused descriptor.
  void unregister(int fd) {
    std::lock_guard lock(mutex);
    std::erase(fds, fd);
  }

  void on_connection(tcp::socket sock, std::size_t index) {
    const int fd = sock.native_handle();
    beast::error_code ec;
    if (!tls) {
      serve(sock, index);
      sock.shutdown(tcp::socket::shutdown_send, ec);
      unregister(fd);
      return;
    }
    asio::ssl::stream<tcp::socket> s(std::move(sock), *tls);
    s.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) {
      {
        std::lock_guard lock(mutex);
        ++handshakes;
        resumed += SSL_session_reused(s.native_handle()) ? 1 : 0;
      }
      serve(s, index);
      s.shutdown(ec);
    }
    unregister(fd);
  }

  void accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket sock(ioc);
      acceptor.accept(sock, ec);
      std::lock_guard lock(mutex);
      if (ec || stopped) return;
      const auto index = ++connections;
      sock.set_option(tcp::no_delay(true), ec);
      fds.push_back(sock.native_handle());
      conn_threads.emplace_back(
          [this, s = std::move(sock), index]() mutable { on_connection(std::move(s), index); });
    }
  }
};

TestOrigin::TestOrigin(Handler handler, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->options = options;
  if (options.tls) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    const auto pair = proxycore::generate_self_signed();
    impl_->cert_pem = pair.cert;
    impl_->tls->use_certificate_chain(asio::buffer(pair.cert));
    impl_->tls->use_private_key(asio::buffer(pair.key), asio::ssl::context::pem);
    static const unsigned char sid[] = "origin";
    SSL_CTX_set_session_id_context(impl_->tls->native_handle(), sid, sizeof sid - 1);
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), options.port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

TestOrigin::~TestOrigin() { stop(); }

void TestOrigin::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);
  }
  impl_->stopped_cv.notify_all();
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->accept_thread.join();
  for (auto& t : impl_->conn_threads) t.join();
}

std::uint16_t TestOrigin::port() const { return impl_->acceptor.local_endpoint().port(); }
std::size_t TestOrigin::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}
std::size_t TestOrigin::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received.size();
}
std::size_t TestOrigin::tls_handshakes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->handshakes;
}
std::size_t TestOrigin::tls_resumed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->resumed;
}
std::uint64_t TestOrigin::bytes_received() const {
  std::lock_guard lock(impl_->mutex);
  std::uint64_t total = 0;
  for (const auto& r : impl_->received) total += r.body.size() + 1;
  return total;
}
std::string TestOrigin::certificate_pem() const { return impl_->cert_pem; }
std::vector<OriginRequest> TestOrigin::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

}  // namespace satlink::test
