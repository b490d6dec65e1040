// Counters as a plain struct plus one descriptor table that drives every export (stats JSON/CSV,
// later GUI columns and tooltips), in HAProxy's spirit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace satlink::proxycore {

struct Counters {
  std::uint64_t client_conns_accepted = 0;
  std::uint64_t client_conns_open = 0;  // gauge
  std::uint64_t client_tls_handshakes = 0;
  std::uint64_t client_tls_resumed = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t server_conns_opened = 0;
  std::uint64_t server_conns_reused = 0;  // requests sent on an already used connection
  std::uint64_t server_conns_open = 0;    // gauge
  std::uint64_t server_conns_idle = 0;    // gauge: in the idle pool now
  std::uint64_t server_tls_handshakes = 0;
  std::uint64_t server_tls_resumed = 0;
  std::uint64_t retries = 0;
  std::uint64_t queued = 0;
  std::uint64_t err_400 = 0;
  std::uint64_t err_408 = 0;
  std::uint64_t err_413 = 0;
  std::uint64_t err_431 = 0;
  std::uint64_t err_501 = 0;
  std::uint64_t err_502 = 0;
  std::uint64_t err_503 = 0;
  std::uint64_t err_504 = 0;
  std::uint64_t client_aborts = 0;
  std::uint64_t bytes_from_clients = 0;
  std::uint64_t bytes_to_clients = 0;
  std::uint64_t bytes_to_servers = 0;
  std::uint64_t bytes_from_servers = 0;
};

enum class CounterKind { counter, gauge };

struct CounterDescriptor {
  std::string_view name;
  std::string_view description;
  CounterKind kind;
  std::uint64_t Counters::*field;
};

std::span<const CounterDescriptor> counter_descriptors();

void add_into(Counters& total, const Counters& part);
std::string counters_json(const Counters& c);  // {"name": value, ...}
std::string counters_csv(const Counters& c);   // header line + value line

}  // namespace satlink::proxycore
