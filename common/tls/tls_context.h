// TlsContext: an SSL_CTX built from configuration, TLS 1.2 and 1.3 only,
// modern AEAD ciphers, no compression, no renegotiation.
//
// A server context can be reloaded (SIGHUP): reload() builds a new SSL_CTX from
// the same files and swaps it in only when it loads cleanly. Sessions already
// running keep the SSL_CTX they started with (OpenSSL reference-counts it), so
// a reload never drops a connection, and a broken new certificate never
// replaces a working one.
#pragma once

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "common/base/result.h"

namespace postern::tls {

struct SslCtxDeleter {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

class TlsContext {
  public:
    // A server context from PEM files (the certificate file may hold a chain).
    static Result<std::unique_ptr<TlsContext>> server(std::string cert_file, std::string key_file);
    // A client context. verify_peer=false is for opportunistic STARTTLS to
    // remote MXes (RFC 7435) and for tests; otherwise the system trust store
    // (or ca_file when given) verifies the peer.
    static Result<std::unique_ptr<TlsContext>> client(bool verify_peer, std::string ca_file = {});

    // Re-reads the certificate and key; on failure the old context stays.
    Status reload();

    // The context new sessions should use. Not owned by the caller; a
    // TlsStream takes its own reference.
    SSL_CTX* native() const { return ctx_.get(); }
    bool is_server() const { return is_server_; }

  private:
    TlsContext() = default;
    SslCtxPtr ctx_;
    bool is_server_ = false;
    std::string cert_file_;
    std::string key_file_;
};

}  // namespace postern::tls
