// Raw TCP peers for link tests: blocking POSIX sockets with a receive timeout, so a test fails
// instead of hanging, and a listening peer that runs a script per accepted connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "satlink/simulator/event_log.hpp"

namespace satlink::test {

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  static Socket connect_to(std::uint16_t port, int timeout_ms = 10000) {
    Socket s(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    s.setup(timeout_ms);
    return s;
  }
  void setup(int timeout_ms) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  void send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<std::size_t>(n);
    }
  }
  // Exactly n bytes; throws on timeout, EOF or error.
  std::string recv_exactly(std::size_t n) {
    std::string out(n, '\0');
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = ::recv(fd_, out.data() + done, n - done, 0);
      if (r <= 0) throw std::runtime_error(r == 0 ? "EOF" : "recv timeout or error");
      done += static_cast<std::size_t>(r);
    }
    return out;
  }
  // What ends the stream: 0 for EOF, the errno for an error (ECONNRESET), -1 for a timeout.
  // Data before the end is returned in `data`.
  int recv_until_end(std::string* data = nullptr) {
    char buf[65536];
    for (;;) {
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r > 0) {
        if (data) data->append(buf, static_cast<std::size_t>(r));
        continue;
      }
      if (r == 0) return 0;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
      return errno;
    }
  }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Listens on 127.0.0.1; runs `script(socket, accept_ns)` on a thread per connection.
class RawPeer {
 public:
  using Script = std::function<void(Socket&, std::int64_t accept_ns)>;
  explicit RawPeer(Script script) : script_(std::move(script)) {
    listener_ = Socket(::socket(AF_INET, SOCK_STREAM, 0));
    int one = 1;
    ::setsockopt(listener_.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener_.fd(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listener_.fd(), 128) != 0 ||
        ::getsockname(listener_.fd(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("listen failed");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RawPeer() {
    stopping_ = true;
    ::shutdown(listener_.fd(), SHUT_RDWR);
    acceptor_.join();
    for (auto& t : threads_) t.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept(listener_.fd(), nullptr, nullptr);
      if (fd < 0 || stopping_) {
        if (fd >= 0) ::close(fd);
        return;
      }
      const std::int64_t t = simulator::now_ns();
      std::lock_guard lock(mutex_);
      threads_.emplace_back([this, fd, t] {
        Socket s(fd);
        s.setup(10000);
        try {
          script_(s, t);
        } catch (const std::exception&) {
          // the test sees the consequence on its side
        }
      });
    }
  }
  Script script_;
  Socket listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

// Echoes every byte back until EOF, then closes.
inline void echo(Socket& s, std::int64_t) {
  char buf[65536];
  for (;;) {
    const ssize_t r = ::recv(s.fd(), buf, sizeof buf, 0);
    if (r <= 0) return;
    s.send(std::string(buf, static_cast<std::size_t>(r)));
  }
}

}  // namespace satlink::test
