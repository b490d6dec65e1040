#include "satlink/proxycore/counters.hpp"

#include <array>

namespace satlink::proxycore {

namespace {
using K = CounterKind;
constexpr std::array kDescriptors{
    CounterDescriptor{"client_conns_accepted", "client connections accepted", K::counter,
                      &Counters::client_conns_accepted},
    CounterDescriptor{"client_conns_open", "client connections open now", K::gauge,
                      &Counters::client_conns_open},
    CounterDescriptor{"client_tls_handshakes", "TLS handshakes with clients", K::counter,
                      &Counters::client_tls_handshakes},
    CounterDescriptor{"client_tls_resumed", "client TLS handshakes that resumed a session",
                      K::counter, &Counters::client_tls_resumed},
    CounterDescriptor{"requests", "requests received", K::counter, &Counters::requests},
    CounterDescriptor{"responses", "responses sent (including errors)", K::counter,
                      &Counters::responses},
    CounterDescriptor{"server_conns_opened", "server connections opened", K::counter,
                      &Counters::server_conns_opened},
    CounterDescriptor{"server_conns_reused", "requests sent on a reused server connection",
                      K::counter, &Counters::server_conns_reused},
    CounterDescriptor{"server_conns_open", "server connections open now", K::gauge,
                      &Counters::server_conns_open},
    CounterDescriptor{"server_conns_idle", "server connections idle in the pool now", K::gauge,
                      &Counters::server_conns_idle},
    CounterDescriptor{"server_tls_handshakes", "TLS handshakes with servers", K::counter,
                      &Counters::server_tls_handshakes},
    CounterDescriptor{"server_tls_resumed", "server TLS handshakes that resumed a session",
                      K::counter, &Counters::server_tls_resumed},
    CounterDescriptor{"retries", "requests resent after a reused connection failed", K::counter,
                      &Counters::retries},
    CounterDescriptor{"queued", "requests that waited for a server slot", K::counter,
                      &Counters::queued},
    CounterDescriptor{"err_400", "400 Bad Request sent", K::counter, &Counters::err_400},
    CounterDescriptor{"err_408", "408 Request Timeout sent", K::counter, &Counters::err_408},
    CounterDescriptor{"err_413", "413 Content Too Large sent", K::counter, &Counters::err_413},
    CounterDescriptor{"err_431", "431 Request Header Fields Too Large sent", K::counter,
                      &Counters::err_431},
    CounterDescriptor{"err_501", "501 Not Implemented sent", K::counter, &Counters::err_501},
    CounterDescriptor{"err_502", "502 Bad Gateway sent", K::counter, &Counters::err_502},
    CounterDescriptor{"err_503", "503 Service Unavailable sent", K::counter, &Counters::err_503},
    CounterDescriptor{"err_504", "504 Gateway Timeout sent", K::counter, &Counters::err_504},
    CounterDescriptor{"client_aborts", "exchanges the client abandoned", K::counter,
                      &Counters::client_aborts},
    CounterDescriptor{"bytes_from_clients", "bytes received from clients", K::counter,
                      &Counters::bytes_from_clients},
    CounterDescriptor{"bytes_to_clients", "bytes sent to clients", K::counter,
                      &Counters::bytes_to_clients},
    CounterDescriptor{"bytes_to_servers", "bytes sent to servers", K::counter,
                      &Counters::bytes_to_servers},
    CounterDescriptor{"bytes_from_servers", "bytes received from servers", K::counter,
                      &Counters::bytes_from_servers},
};
}  // namespace

std::span<const CounterDescriptor> counter_descriptors() { return kDescriptors; }

void add_into(Counters& total, const Counters& part) {
  for (const auto& d : kDescriptors) total.*d.field += part.*d.field;
}

std::string counters_json(const Counters& c) {
  std::string out = "{";
  for (const auto& d : kDescriptors) {
    if (out.size() > 1) out += ", ";
    out += '"';
    out += d.name;
    out += "\": ";
    out += std::to_string(c.*d.field);
  }
  out += "}";
  return out;
}

std::string counters_csv(const Counters& c) {
  std::string header, values;
  for (const auto& d : kDescriptors) {
    if (!header.empty()) {
      header += ',';
      values += ',';
    }
    header += d.name;
    values += std::to_string(c.*d.field);
  }
  return header + "\n" + values + "\n";
}

}  // namespace satlink::proxycore
