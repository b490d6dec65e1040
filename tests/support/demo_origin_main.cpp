// satlink-demo-origin PORT (0 = any; the port is printed): serves a small page (HTML + 30 images) on 127.0.0.1:PORT until
// SIGINT/SIGTERM. A stand-in for the simulator's synthetic origin.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_origin.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: satlink-demo-origin PORT\n");
    return 2;
  }
  char* end = nullptr;
  const long port = std::strtol(argv[1], &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "satlink-demo-origin: PORT must be 0..65535, got \"%s\"\n", argv[1]);
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  satlink::test::TestOrigin origin([](const satlink::test::OriginRequest& r) {
    satlink::test::OriginReply reply;
    if (r.target == "/" || r.target == "/index.html") {
      reply.headers = {{"Content-Type", "text/html"}};
      reply.body = "<!doctype html><html><head><title>satlink demo</title></head><body>\n";
      for (int i = 1; i <= 30; ++i)
        reply.body += "<img src=\"/img" + std::to_string(i) + ".jpg\">\n";
      reply.body += "</body></html>\n";
    } else {
      reply.headers = {{"Content-Type", "image/jpeg"}};
      reply.stream_bytes = 15000;
    }
    return reply;
  }, {.port = static_cast<std::uint16_t>(port)});
  std::printf("%u\n", origin.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
