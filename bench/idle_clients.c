/*
 * idle_clients: open N keep-alive HTTP/1.1 client connections, send one GET on each, read the
 * complete response, then keep every connection open and idle for HOLD seconds and exit.
 *
 * Used by bench/proxy-vs-peers to measure a proxy's memory per idle client connection. Built on
 * the fly by that script with the system C compiler (not part of the CMake build).
 *
 *   idle_clients HOST PORT PATH N HOLD_SECONDS [SETUP_TIMEOUT_SECONDS] [MAX_INFLIGHT]
 *
 * Prints (stdout, line buffered):
 *   READY ok=<n> failed=<n> timed_out=<n>    once every connection has its response (or failed,
 *                                            or the setup timeout passed); the caller measures now
 *   DONE open=<n> closed_by_peer=<n>         after the hold; then the program exits
 * Exit status: 0 when all N connections got a complete response and none was closed during the
 * hold, 2 otherwise, 1 on usage or system errors. The run is bounded: setup at most
 * SETUP_TIMEOUT_SECONDS (default 30), then HOLD_SECONDS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { ST_FREE, ST_CONNECTING, ST_SENDING, ST_READING, ST_IDLE, ST_CLOSED, ST_FAILED };

struct conn {
  int fd;
  enum state st;
  size_t sent;
  char head[8192];
  size_t head_len;
  int head_done;
  int chunked;
  long long body_left; /* -1: unknown (read until chunked terminator) */
  char tail[8];        /* last bytes of a chunked body, to spot the terminator */
  size_t tail_len;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char request[1024];
static size_t request_len;

static void fail_conn(int ep, struct conn* c, enum state st) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->st = st;
}

/* Parses the response head; returns 0 when more bytes are needed, 1 when done, -1 on error. */
static int parse_head(struct conn* c, size_t* body_start) {
  char* end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
  if (!end) return c->head_len >= sizeof c->head ? -1 : 0;
  *body_start = (size_t)(end - c->head) + 4;
  c->head_done = 1;
  c->body_left = -1;
  c->chunked = 0;
  int status = 0;
  if (sscanf(c->head, "HTTP/1.%*d %d", &status) != 1 || status < 200 || status >= 400) return -1;
  const char* p = c->head;
  const char* stop = end;
  while (p < stop) {
    const char* eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
    if (!eol) eol = stop;
    size_t n = (size_t)(eol - p);
    if (n > 15 && strncasecmp(p, "content-length:", 15) == 0) {
      c->body_left = atoll(p + 15);
    } else if (n > 18 && strncasecmp(p, "transfer-encoding:", 18) == 0) {
      if (memmem(p, n, "chunked", 7)) c->chunked = 1;
    }
    p = eol + 2;
  }
  if (!c->chunked && c->body_left < 0) return -1; /* would need read-until-close: not idle-able */
  return 1;
}

/* Consumes body bytes; returns 1 when the response is complete. */
static int eat_body(struct conn* c, const char* buf, size_t n) {
  if (!c->chunked) {
    c->body_left -= (long long)n;
    return c->body_left <= 0;
  }
  /* keep the last 7 bytes: the terminator is "0\r\n\r\n" after a "\r\n" */
  for (size_t i = 0; i < n; i++) {
    if (c->tail_len == 7) {
      memmove(c->tail, c->tail + 1, 6);
      c->tail_len = 6;
    }
    c->tail[c->tail_len++] = buf[i];
  }
  return c->tail_len >= 5 && memcmp(c->tail + c->tail_len - 5, "0\r\n\r\n", 5) == 0;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr,
            "usage: %s HOST PORT PATH N HOLD_SECONDS [SETUP_TIMEOUT_SECONDS] [MAX_INFLIGHT]\n",
            argv[0]);
    return 1;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  const char* path = argv[3];
  int n = atoi(argv[4]);
  double hold = atof(argv[5]);
  double setup_timeout = argc > 6 ? atof(argv[6]) : 30.0;
  int max_inflight = argc > 7 ? atoi(argv[7]) : 256;
  if (n <= 0 || port <= 0 || port > 65535 || max_inflight <= 0) {
    fprintf(stderr, "idle_clients: bad arguments\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
    rlim_t want = (rlim_t)n + 64;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) want = rl.rlim_max;
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)n + 16)
      fprintf(stderr, "idle_clients: warning: open files limit %lu < %d connections\n",
              (unsigned long)rl.rlim_cur, n);
  }

  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "idle_clients: HOST must be an IPv4 address, got %s\n", host);
    return 1;
  }
  request_len = (size_t)snprintf(request, sizeof request,
                                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: idle_clients\r\n"
                                 "Accept: */*\r\n\r\n",
                                 path, host, port);

  struct conn* conns = calloc((size_t)n, sizeof *conns);
  if (!conns) {
    perror("calloc");
    return 1;
  }
  for (int i = 0; i < n; i++) conns[i].fd = -1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("epoll_create1");
    return 1;
  }

  int next = 0, inflight = 0, ok = 0, failed = 0;
  double t0 = now_s();
  struct epoll_event evs[512];
  char buf[65536];

  /* ---- setup: connect, send, read one response per connection ---- */
  while (ok + failed < n && now_s() - t0 < setup_timeout) {
    while (inflight < max_inflight && next < n) {
      struct conn* c = &conns[next];
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        if (next == ok + failed + inflight) fprintf(stderr, "idle_clients: socket: %s\n", strerror(errno));
        c->st = ST_FAILED;
        failed++;
        next++;
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c->fd = fd;
      int r = connect(fd, (struct sockaddr*)&sa, sizeof sa);
      if (r < 0 && errno != EINPROGRESS) {
        fail_conn(ep, c, ST_FAILED);
        failed++;
        next++;
        continue;
      }
      c->st = ST_CONNECTING;
      struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (unsigned)next};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      inflight++;
      next++;
    }
    int k = epoll_wait(ep, evs, 512, 100);
    for (int e = 0; e < k; e++) {
      struct conn* c = &conns[evs[e].data.u32];
      if (c->st == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
          fail_conn(ep, c, ST_FAILED);
          failed++;
          inflight--;
          continue;
        }
        c->st = ST_SENDING;
      }
      if (c->st == ST_SENDING) {
        ssize_t w = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
          fail_conn(ep, c, ST_FAILED);
          failed++;
          inflight--;
          continue;
        }
        if (w > 0) c->sent += (size_t)w;
        if (c->sent == request_len) {
          c->st = ST_READING;
          struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = evs[e].data.u32};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        continue;
      }
      if (c->st == ST_READING) {
        for (;;) {
          ssize_t r = recv(c->fd, buf, sizeof buf, 0);
          if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          if (r <= 0) {
            fail_conn(ep, c, ST_FAILED);
            failed++;
            inflight--;
            break;
          }
          size_t off = 0;
          if (!c->head_done) {
            size_t room = sizeof c->head - c->head_len;
            size_t take = (size_t)r < room ? (size_t)r : room;
            memcpy(c->head + c->head_len, buf, take);
            size_t old = c->head_len;
            c->head_len += take;
            size_t body_start = 0;
            int ph = parse_head(c, &body_start);
            if (ph < 0) {
              fail_conn(ep, c, ST_FAILED);
              failed++;
              inflight--;
              break;
            }
            if (ph == 0) continue;
            off = body_start - old; /* body bytes begin here within buf */
          }
          if (eat_body(c, buf + off, (size_t)r - off)) {
            c->st = ST_IDLE;
            ok++;
            inflight--;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = evs[e].data.u32};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            break;
          }
        }
      }
    }
  }
  int timed_out = n - ok - failed;
  printf("READY ok=%d failed=%d timed_out=%d setup_s=%.2f\n", ok, failed, timed_out, now_s() - t0);

  /* ---- hold: keep the idle connections open, notice any the peer closes ---- */
  int closed = 0;
  double th = now_s();
  while (now_s() - th < hold) {
    int ms = (int)((hold - (now_s() - th)) * 1000) + 1;
    if (ms > 200) ms = 200;
    int k = epoll_wait(ep, evs, 512, ms);
    for (int e = 0; e < k; e++) {
      struct conn* c = &conns[evs[e].data.u32];
      if (c->st != ST_IDLE) {
        /* still in setup after the timeout: give up on it */
        fail_conn(ep, c, ST_FAILED);
        continue;
      }
      ssize_t r = recv(c->fd, buf, sizeof buf, 0);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (r <= 0) {
        fail_conn(ep, c, ST_CLOSED);
        closed++;
      }
    }
  }
  int open_now = 0;
  for (int i = 0; i < n; i++)
    if (conns[i].st == ST_IDLE) open_now++;
  printf("DONE open=%d closed_by_peer=%d\n", open_now, closed);
  for (int i = 0; i < n; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  free(conns);
  close(ep);
  return (ok == n && closed == 0) ? 0 : 2;
}
