#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "satlink/proxycore/self_signed.hpp"

namespace satlink::proxycore {

namespace {
[[noreturn]] void fail(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error(std::string(what) + ": " + buf);
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}
}  // namespace

PemPair generate_self_signed(const std::string& common_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail("EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400L);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400L);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Satlink Workbench"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  const std::string san = "DNS:" + common_name + ",DNS:localhost,IP:127.0.0.1";
  add_ext(cert.get(), NID_subject_alt_name, san.c_str());
  add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!PEM_write_bio_X509(cert_bio.get(), cert.get())) fail("PEM_write_bio_X509");
  if (!PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
    fail("PEM_write_bio_PrivateKey");
  return {bio_string(cert_bio.get()), bio_string(key_bio.get())};
}

namespace detail {

namespace ssl = boost::asio::ssl;

namespace {
int slot_index() {
  static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<TlsSessionSlot*>(SSL_get_ex_data(ssl, slot_index()));
  if (!slot) return 0;
  slot->reset(session);
  return 1;  // we keep the reference
}

void restrict_version(SSL_CTX* ctx, TlsVersion v) {
  int lo = TLS1_2_VERSION, hi = TLS1_3_VERSION;
  if (v == TlsVersion::v1_2) hi = TLS1_2_VERSION;
  if (v == TlsVersion::v1_3) lo = TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
}
}  // namespace

std::unique_ptr<ssl::context> make_client_side_context(const TlsSettings& s) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  if (s.cert_file.empty()) {
    const PemPair pair = generate_self_signed();
    ctx->use_certificate_chain(boost::asio::buffer(pair.cert), ec);
    if (!ec) ctx->use_private_key(boost::asio::buffer(pair.key), ssl::context::pem, ec);
    if (ec) throw std::runtime_error("cannot load the generated certificate: " + ec.message());
  } else {
    ctx->use_certificate_chain_file(s.cert_file, ec);
    if (ec) throw std::runtime_error("cannot load certificate " + s.cert_file + ": " + ec.message());
    ctx->use_private_key_file(s.key_file, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("cannot load key " + s.key_file + ": " + ec.message());
  }
  SSL_CTX* native = ctx->native_handle();
  restrict_version(native, s.version);
  if (s.session_resumption) {
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
    static const unsigned char sid_ctx[] = "satlink";
    SSL_CTX_set_session_id_context(native, sid_ctx, sizeof sid_ctx - 1);
  } else {
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(native, 0);
  }
  return ctx;
}

std::unique_ptr<ssl::context> make_server_side_context(const TlsSettings& s) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  if (s.verify) {
    ctx->set_verify_mode(ssl::verify_peer);
    if (s.ca_file.empty())
      ctx->set_default_verify_paths(ec);
    else
      ctx->load_verify_file(s.ca_file, ec);
    if (ec) throw std::runtime_error("cannot load CA " + s.ca_file + ": " + ec.message());
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  SSL_CTX* native = ctx->native_handle();
  restrict_version(native, s.version);
  if (s.session_resumption) {
    // Sessions go to the server's slot through the callback, not OpenSSL's internal cache.
    SSL_CTX_set_session_cache_mode(native,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  }
  return ctx;
}

void prepare_server_handshake(SSL* ssl, const TlsSettings& s, const std::string& host,
                              TlsSessionSlot* slot) {
  const std::string& name = s.server_name.empty() ? host : s.server_name;
  // SNI carries host names only, never IP literals (RFC 6066 section 3).
  const bool is_ip = name.find_first_not_of("0123456789.:") == std::string::npos;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (s.verify) {
    if (is_ip)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    else
      SSL_set1_host(ssl, name.c_str());
  }
  if (s.session_resumption && slot) {
    SSL_set_ex_data(ssl, slot_index(), slot);
    if (slot->get()) SSL_set_session(ssl, slot->get());
  }
}

}  // namespace detail
}  // namespace satlink::proxycore
