// A scriptable HTTP/1.1 origin for tests: real sockets on 127.0.0.1, one thread per connection,
// Beast's parser. Counts what reaches it so tests can assert what the proxy forwarded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace satlink::test {

struct OriginRequest {
  std::string method;
  std::string target;
  int version = 11;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t connection = 0;  // 1-based index of the origin connection that carried it
  std::size_t index_on_connection = 0;  // 1-based
  std::string header(std::string_view name) const;  // first value, "" if absent
  std::size_t count(std::string_view name) const;
};

struct OriginReply {
  int status = 200;
  std::string body = "ok";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string raw;        // sent verbatim instead of the above when set
  bool close = false;     // Connection: close, then close
  bool hang = false;      // never answer (until the origin stops)
  bool drop = false;      // close the connection without answering
  bool chunked = false;   // send the body chunked (in 3 chunks)
  bool no_length = false; // no Content-Length, no chunking: the end is the close
  std::uint64_t stream_bytes = 0;  // send a generated body of this size, in 64 KiB writes
};

struct OriginOptions {
  bool tls = false;
  bool keep_alive = true;  // honour keep-alive (otherwise close after each response)
  std::uint16_t port = 0;  // 0 = any free port
};

class TestOrigin {
 public:
  using Handler = std::function<OriginReply(const OriginRequest&)>;
  using Options = OriginOptions;
  explicit TestOrigin(Handler handler = {}, Options options = {});
  ~TestOrigin();
  TestOrigin(const TestOrigin&) = delete;
  TestOrigin& operator=(const TestOrigin&) = delete;

  std::uint16_t port() const;
  std::size_t connections() const;
  std::size_t requests() const;
  std::size_t tls_handshakes() const;
  std::size_t tls_resumed() const;
  std::uint64_t bytes_received() const;
  std::vector<OriginRequest> received() const;
  // The PEM certificate a TLS origin presents ("" without TLS), e.g. as a CA file for verify.
  std::string certificate_pem() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The body the origin generates for stream_bytes (a checkable pattern).
char pattern_byte(std::uint64_t offset);

}  // namespace satlink::test
