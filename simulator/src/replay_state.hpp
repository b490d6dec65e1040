// Private to the replay client: the state of one Replay (ReplayState) and of each of its
// browsers (User). Shared by replay.cpp (the page-load scheduler: users, queues, connection
// choice, cancel and timeout) and replay_exchange.cpp (each connection's coroutine). Every
// handler of one Replay runs on one strand, so this state needs no locks (except what cancel()
// touches).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "replay_connection.hpp"
#include "satlink/simulator/replay.hpp"

namespace satlink::simulator {

struct User;

struct ReplayState : std::enable_shared_from_this<ReplayState> {
  ReplayState(ReplayOptions o, EventLog* l);

  const ReplayOptions options;
  EventLog* const log;
  replay_detail::tcp::endpoint endpoint;
  std::string sni;  // empty: none (numeric host)
  std::unique_ptr<replay_detail::asio::ssl::context> tls;
  std::size_t depth = 1;  // effective pipelining depth

  // On the strand.
  std::unique_ptr<replay_detail::asio::steady_timer> deadline;
  std::vector<std::shared_ptr<User>> users;
  std::uint64_t next_conn = 1, next_request = 1;
  std::uint32_t users_left = 0;
  ReplayResult result;
  std::function<void(const ReplayResult&)> done;

  // Shared with cancel() on any thread.
  std::mutex mutex;
  std::optional<replay_detail::Strand> strand;  // set by start_on, dropped when done
  bool cancel_requested = false;
  bool finished = false;  // done ran: the io_context may be gone, post nothing

  void emit(ClientEvent kind, std::uint64_t conn, std::uint64_t request, std::int64_t a = 0,
            std::int64_t b = 0, std::int64_t c = 0, std::int64_t t_ns = 0) const {
    replay_detail::log_client(log, kind, conn, request, a, b, c, t_ns);
  }
  void begin();
  void abort_all(ClientError reason);
  void user_done(bool ok);
};

// One browser: its queue of wanted URLs and its connections to the one host.
struct User : std::enable_shared_from_this<User> {
  User(ReplayState& s, std::uint32_t i) : core(s), index(i) {}
  ReplayState& core;
  const std::uint32_t index;
  std::vector<std::unique_ptr<replay_detail::Request>> requests;
  std::deque<replay_detail::Request*> queue;  // wanted, not on a connection yet (FIFO)
  std::vector<std::shared_ptr<replay_detail::Conn>> conns;
  std::size_t outstanding = 0;  // requests without their outcome yet
  bool failed = false, ended = false, reported = false;
  replay_detail::asio::steady_timer::time_point hold_until;  // idle_hold_ms after page_end
  ClientError abort_reason = ClientError::none;
  replay_detail::SessionSlot session;

  bool aborting() const { return abort_reason != ClientError::none; }
  void start();
  replay_detail::Request* add_request(std::uint32_t resource_index, std::string target);
  void on_page(const std::string& html);
  void dispatch();
  void assign(replay_detail::Conn& c);
  void open_connection();
  void fail(replay_detail::Request& r, std::uint64_t conn, ClientError err, const std::string& detail = "");
  void complete(replay_detail::Request& r, replay_detail::Conn& c,
                const replay_detail::Response& resp, const std::string& html);
  void finished(std::int64_t t_ns = 0);
  void abandon(replay_detail::Conn& c, ClientError err, bool head_fails, bool count_retry,
               const std::string& detail = "");
  void conn_ended(replay_detail::Conn& c);
  void abort(ClientError reason);
};

namespace replay_detail {

// One connection's whole life: open (TCP, then TLS), then the request/response exchange until
// the server or the user ends it. Spawned by User::open_connection; owns the user and the
// connection so nothing it uses is freed under it.
asio::awaitable<void> run_connection(std::shared_ptr<User> user, std::shared_ptr<Conn> conn);

}  // namespace replay_detail

}  // namespace satlink::simulator
