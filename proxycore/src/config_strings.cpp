// The spelling of each configuration enum. config_json.cpp parses by comparing against these, so
// the JSON names and the names in logs and stats can never drift apart.
#include <string_view>

#include "satlink/proxycore/config.hpp"

namespace satlink::proxycore {

std::string_view to_string(ReusePolicy p) {
  switch (p) {
    case ReusePolicy::never:
      return "never";
    case ReusePolicy::safe:
      return "safe";
    case ReusePolicy::always:
      return "always";
  }
  return "?";  // only reachable through a cast of an out-of-range value
}

std::string_view to_string(Balance b) {
  switch (b) {
    case Balance::roundrobin:
      return "roundrobin";
    case Balance::leastconn:
      return "leastconn";
  }
  return "?";
}

std::string_view to_string(TlsVersion v) {
  switch (v) {
    case TlsVersion::any:
      return "any";
    case TlsVersion::v1_2:
      return "1.2";
    case TlsVersion::v1_3:
      return "1.3";
  }
  return "?";
}

}  // namespace satlink::proxycore
