// A certificate and key generated in memory for experiments (no files, no CA).
#pragma once

#include <string>

namespace satlink::proxycore {

struct PemPair {
  std::string cert;  // PEM
  std::string key;   // PEM, unencrypted
};

// EC P-256, valid from a day ago for a year, subjectAltName DNS:localhost and IP:127.0.0.1.
// Throws std::runtime_error when OpenSSL fails.
PemPair generate_self_signed(const std::string& common_name = "localhost");

}  // namespace satlink::proxycore
