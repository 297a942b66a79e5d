#include "tests/unit/common/tls/tls_test_util.h"

#include <doctest/doctest.h>

#include <openssl/x509.h>

#include "common/tls/self_signed.h"

namespace postern::tls::test {

// A handshake takes 2-3 flights; anything past this is a ping-pong bug.
constexpr int kMaxPumpRounds = 50;

CertFiles make_cert(const postern::test::TempDir& dir, const std::string& host,
                    const std::string& stem) {
    CertFiles files{(dir.path() / (stem + ".crt")).string(),
                    (dir.path() / (stem + ".key")).string()};
    const auto st = write_self_signed({.host = host, .loopback_ips = true}, files.cert, files.key);
    REQUIRE_MESSAGE(st.ok(), "write_self_signed: ", error_text(st));
    return files;
}

void pump(TlsStream& a, TlsStream& b) {
    for (int round = 0; round < kMaxPumpRounds; ++round) {
        const std::string ab = a.take_ciphertext();
        if (!ab.empty()) (void)b.feed_ciphertext(ab);
        const std::string ba = b.take_ciphertext();
        if (!ba.empty()) (void)a.feed_ciphertext(ba);
        if (ab.empty() && ba.empty()) return;
    }
    FAIL("pump: still sending after ", kMaxPumpRounds, " rounds");
}

Pair handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, std::string_view sni) {
    Pair pair{TlsStream::server(server_ctx), TlsStream::client(client_ctx, sni)};
    pump(*pair.client, *pair.server);
    return pair;
}

std::string peer_common_name(const TlsStream& stream) {
    X509* cert = SSL_get0_peer_certificate(stream.native_for_test());
    if (cert == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    return cn;
}

std::string transfer(TlsStream& from, TlsStream& to, std::string_view data) {
    const auto st = from.write_plaintext(data);
    REQUIRE_MESSAGE(st.ok(), "write_plaintext: ", error_text(st));
    std::string got;
    // Deliver in pieces, reading after each, as a socket would.
    const std::string wire = from.take_ciphertext();
    constexpr std::size_t kSegmentBytes = 1400;  // a typical TCP segment
    for (std::size_t at = 0; at < wire.size(); at += kSegmentBytes) {
        const auto fed = to.feed_ciphertext(std::string_view(wire).substr(at, kSegmentBytes));
        REQUIRE_MESSAGE(fed.ok(), "feed_ciphertext: ", error_text(fed));
        to.read_plaintext(got);
    }
    return got;
}

}  // namespace postern::tls::test
