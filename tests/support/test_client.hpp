// A blocking HTTP client for tests on plain POSIX sockets, with a receive timeout so a test
// fails instead of hanging. Optional TLS (OpenSSL) with session resumption, and "tiny" mode
// that writes 1 to 3 bytes at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct ssl_session_st SSL_SESSION;

namespace satlink::test {

struct Response {
  int status = 0;
  int version = 11;
  std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined ", "
  std::string body;
  bool chunked = false;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct ClientOptions {
  bool tiny_writes = false;       // 1..3 bytes per write
  bool tls = false;
  int tls_version = 0;            // 0 any, 12, 13
  SSL_SESSION* resume = nullptr;  // offered when set
  int timeout_ms = 10000;
};

class TestClient {
 public:
  explicit TestClient(std::uint16_t port, ClientOptions options = {});
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void send(std::string_view bytes);
  // Reads one response (throws std::runtime_error on timeout, close or parse error).
  Response read_response(bool head_request = false);
  // Reads one response without keeping its body: `on_body(offset, piece)` sees the body (after
  // any de-chunking) piece by piece, so huge bodies need no memory. The returned body is empty.
  using BodySink = std::function<void(std::uint64_t offset, std::string_view piece)>;
  Response read_response_streaming(const BodySink& on_body, bool head_request = false);
  // Reads exactly `n` raw bytes (e.g. through a tunnel); throws on timeout or close.
  std::string read_exactly(std::size_t n);
  // Reads everything until the peer closes (throws on timeout).
  std::string read_until_close();
  // True when the peer closed the connection (EOF or reset) within the timeout.
  bool peer_closed();
  void shutdown_send();
  std::uint64_t bytes_read_total() const { return total_read_; }
  // The TLS session to resume later (caller frees with SSL_SESSION_free), and whether this
  // connection resumed one.
  SSL_SESSION* tls_session() const;
  bool tls_resumed() const;

 private:
  std::size_t recv_some(char* data, std::size_t size);  // 0 = EOF
  int fd_ = -1;
  ClientOptions options_;
  struct Tls;
  std::unique_ptr<Tls> tls_;
  std::string pending_;
  std::uint64_t total_read_ = 0;
};

std::string get(std::string_view target, std::string_view extra_headers = "");

}  // namespace satlink::test
