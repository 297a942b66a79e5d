// Helpers for the TLS tests: throwaway certificates and an in-memory "wire"
// that moves ciphertext between two TlsStreams.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "common/tls/tls_stream.h"
#include "tests/support/temp_dir.h"

namespace postern::tls::test {

struct CertFiles {
    std::string cert;
    std::string key;
};

// The error text of a Result, or "ok": safe inside doctest *_MESSAGE
// arguments, which are evaluated even when the check passes.
template <typename R>
std::string error_text(const R& r) {
    return r.ok() ? std::string("ok") : r.error().message;
}

// A fresh self-signed EC certificate for `host` in dir/<stem>.{crt,key}.
CertFiles make_cert(const postern::test::TempDir& dir, const std::string& host,
                    const std::string& stem = "server");

// Moves ciphertext both ways until neither side has anything to send.
// Feed errors are left for the caller to see in state()/failure().
void pump(TlsStream& a, TlsStream& b);

struct Pair {
    std::unique_ptr<TlsStream> server;
    std::unique_ptr<TlsStream> client;
};
// A server and a client stream after pumping the handshake.
Pair handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, std::string_view sni = "mail.test");

// The subject CN of the certificate the peer presented ("" when none).
std::string peer_common_name(const TlsStream& stream);

// Sends `data` from one side to the other and returns what arrived.
std::string transfer(TlsStream& from, TlsStream& to, std::string_view data);

}  // namespace postern::tls::test
