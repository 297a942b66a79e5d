#include "common/tls/tls_stream.h"

#include <doctest/doctest.h>

#include <random>

#include "common/tls/tls_context.h"
#include "tests/unit/common/tls/tls_test_util.h"

namespace postern::tls {

namespace {

using test::handshake;
using test::pump;
using test::transfer;

std::string random_bytes(std::size_t n) {
    std::mt19937 rng(20261125);
    std::string out(n, '\0');
    for (char& c : out)
        c = static_cast<char>(rng());
    return out;
}

struct Fixture {
    postern::test::TempDir dir;
    test::CertFiles files = test::make_cert(dir, "mail.test");
    std::unique_ptr<TlsContext> server_ctx = TlsContext::server(files.cert, files.key).value();
    std::unique_ptr<TlsContext> client_ctx = TlsContext::client(false).value();
};

}  // namespace

TEST_CASE("handshake in memory, data both ways, close_notify") {
    Fixture f;
    auto [server, client] = handshake(f.server_ctx->native(), f.client_ctx->native());
    REQUIRE_MESSAGE(server->state() == TlsStream::State::Open, "server: ", server->failure());
    REQUIRE_MESSAGE(client->state() == TlsStream::State::Open, "client: ", client->failure());
    CHECK(server->describe().rfind("TLSv1.3 TLS_", 0) == 0);
    CHECK_MESSAGE(server->describe() == client->describe(), "got ", server->describe(), ", want ",
                  client->describe());

    CHECK(transfer(*client, *server, "EHLO client\r\n") == "EHLO client\r\n");
    CHECK(transfer(*server, *client, "250 ok\r\n") == "250 ok\r\n");
    const std::string nul_bytes("a\0b\r\n\xff", 6);
    CHECK(transfer(*client, *server, nul_bytes) == nul_bytes);

    const std::string big = random_bytes(1 << 20);
    const std::string up = transfer(*client, *server, big);
    CHECK_MESSAGE(up == big, "got ", up.size(), " bytes, want ", big.size(), " identical bytes");
    const std::string down = transfer(*server, *client, big);
    CHECK_MESSAGE(down == big, "got ", down.size(), " bytes, want ", big.size(),
                  " identical bytes");

    client->shutdown();
    CHECK(client->state() == TlsStream::State::Closed);
    CHECK_FALSE(client->write_plaintext("late").ok());
    pump(*client, *server);
    std::string rest;
    CHECK(server->read_plaintext(rest) == 0);
    CHECK_MESSAGE(server->state() == TlsStream::State::Closed, "server: ", server->failure());
    // The server answers with its own close_notify; the client takes it quietly.
    server->shutdown();
    CHECK_FALSE(server->take_ciphertext().empty());
}

TEST_CASE("writing before the handshake is done fails") {
    Fixture f;
    auto server = TlsStream::server(f.server_ctx->native());
    CHECK(server->state() == TlsStream::State::Handshaking);
    CHECK_FALSE(server->write_plaintext("too early").ok());
    CHECK(server->describe() == "none");
    std::string out;
    CHECK(server->read_plaintext(out) == 0);
}

TEST_CASE("garbage instead of a ClientHello fails with a reason") {
    Fixture f;
    const std::string inputs[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "EHLO x\r\n",
                                  std::string(64, '\0'), std::string(64, '\x16')};
    for (const std::string& input : inputs) {
        CAPTURE(input);
        auto server = TlsStream::server(f.server_ctx->native());
        // Fed whole; a TLS record header is 5 bytes so the garbage is seen at once.
        const auto st = server->feed_ciphertext(input);
        if (input[0] == '\x16') {
            // A plausible record header claiming a huge length: more data is
            // awaited or the length is refused; either way never Open.
            CHECK(server->state() != TlsStream::State::Open);
            continue;
        }
        CHECK_FALSE(st.ok());
        CHECK(server->state() == TlsStream::State::Failed);
        CHECK_MESSAGE(server->failure().rfind("handshake: ", 0) == 0, "got ", server->failure());
        CHECK(server->failure().size() > std::string("handshake: ").size());
        CHECK_FALSE(server->feed_ciphertext("more").ok());
    }
}

TEST_CASE("a client limited to TLS 1.1 is refused") {
    Fixture f;
    SSL_CTX* old_client = f.client_ctx->native();
    // Security level 0 so that the client can offer TLS 1.1 at all; the
    // refusal must come from the server's minimum version.
    REQUIRE(SSL_CTX_set_min_proto_version(old_client, TLS1_VERSION) == 1);
    REQUIRE(SSL_CTX_set_max_proto_version(old_client, TLS1_1_VERSION) == 1);
    REQUIRE(SSL_CTX_set_cipher_list(old_client, "DEFAULT:@SECLEVEL=0") == 1);
    auto client = TlsStream::client(old_client, "mail.test");
    auto server = TlsStream::server(f.server_ctx->native());
    const std::string hello = client->take_ciphertext();
    REQUIRE_MESSAGE(!hello.empty(), "the TLS 1.1 client sent no ClientHello: ", client->failure());
    CHECK_FALSE(server->feed_ciphertext(hello).ok());
    CHECK(server->state() == TlsStream::State::Failed);
    CHECK_MESSAGE(server->failure().find("unsupported protocol") != std::string::npos, "got ",
                  server->failure(), ", want unsupported protocol");
    // The alert reaches the client, which fails too.
    (void)client->feed_ciphertext(server->take_ciphertext());
    CHECK(client->state() == TlsStream::State::Failed);
}

TEST_CASE("a TLS 1.2 client gets an ECDHE AEAD suite") {
    Fixture f;
    REQUIRE(SSL_CTX_set_max_proto_version(f.client_ctx->native(), TLS1_2_VERSION) == 1);
    auto [server, client] = handshake(f.server_ctx->native(), f.client_ctx->native());
    REQUIRE_MESSAGE(server->state() == TlsStream::State::Open, "server: ", server->failure());
    const std::string got = server->describe();
    CHECK_MESSAGE(got.rfind("TLSv1.2 ECDHE-", 0) == 0, "got ", got);
    CHECK_MESSAGE(
        (got.find("GCM") != std::string::npos || got.find("CHACHA20") != std::string::npos), "got ",
        got, ", want an AEAD suite");
}

TEST_CASE("a TLS 1.2 client cannot renegotiate") {
    Fixture f;
    REQUIRE(SSL_CTX_set_max_proto_version(f.client_ctx->native(), TLS1_2_VERSION) == 1);
    // OpenSSL 3 refuses client renegotiation unless allowed; allow it so
    // that SSL_OP_NO_RENEGOTIATION is what this test sees refusing.
    SSL_CTX_set_options(f.server_ctx->native(), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    auto [server, client] = handshake(f.server_ctx->native(), f.client_ctx->native());
    REQUIRE(server->handshake_done());
    SSL* client_ssl = client->native_for_test();
    SSL_clear_options(client_ssl, SSL_OP_NO_RENEGOTIATION);  // our own client would not ask
    REQUIRE(SSL_renegotiate(client_ssl) == 1);
    (void)SSL_do_handshake(client_ssl);  // queues a new ClientHello
    const std::string hello = client->take_ciphertext();
    REQUIRE(!hello.empty());
    REQUIRE(server->feed_ciphertext(hello).ok());
    std::string got;
    server->read_plaintext(got);
    // The server declines with a no_renegotiation alert (record type 21,
    // RFC 5246 §6.2.1) instead of a ServerHello (type 22), and carries on.
    const std::string answer = server->take_ciphertext();
    REQUIRE_FALSE(answer.empty());
    CHECK_MESSAGE(answer[0] == '\x15', "got record type ", int(answer[0]), ", want 21 (alert)");
    CHECK_MESSAGE(server->state() == TlsStream::State::Open, "server: ", server->failure());
}

TEST_CASE("a TLS 1.2 client offering only CBC suites is refused") {
    Fixture f;
    SSL_CTX* client_ctx = f.client_ctx->native();
    REQUIRE(SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION) == 1);
    REQUIRE(SSL_CTX_set_cipher_list(client_ctx, "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA") ==
            1);
    auto [server, client] = handshake(f.server_ctx->native(), client_ctx);
    CHECK(server->state() == TlsStream::State::Failed);
    CHECK_MESSAGE(server->failure().find("no shared cipher") != std::string::npos, "got ",
                  server->failure());
}

TEST_CASE("a verifying client checks the name against the certificate") {
    Fixture f;
    auto verifying = TlsContext::client(true, f.files.cert);
    REQUIRE_MESSAGE(verifying.ok(), test::error_text(verifying));
    SUBCASE("matching name") {
        auto [server, client] = handshake(f.server_ctx->native(), (*verifying)->native());
        CHECK_MESSAGE(client->state() == TlsStream::State::Open, "client: ", client->failure());
        CHECK(test::peer_common_name(*client) == "mail.test");
    }
    SUBCASE("loopback address in the SAN") {
        auto [server, client] =
            handshake(f.server_ctx->native(), (*verifying)->native(), "127.0.0.1");
        CHECK_MESSAGE(client->state() == TlsStream::State::Open, "client: ", client->failure());
    }
    SUBCASE("other name") {
        auto [server, client] =
            handshake(f.server_ctx->native(), (*verifying)->native(), "other.test");
        CHECK(client->state() == TlsStream::State::Failed);
        CHECK_MESSAGE(client->failure().find("hostname mismatch") != std::string::npos, "got ",
                      client->failure());
    }
    SUBCASE("untrusted certificate") {
        postern::test::TempDir other_dir;
        const auto other = test::make_cert(other_dir, "mail.test");
        auto other_ca = TlsContext::client(true, other.cert);
        REQUIRE(other_ca.ok());
        auto [server, client] = handshake(f.server_ctx->native(), (*other_ca)->native());
        CHECK(client->state() == TlsStream::State::Failed);
        CHECK_MESSAGE(client->failure().find("certificate verify failed") != std::string::npos,
                      "got ", client->failure());
    }
}

TEST_CASE("release_buffers keeps the session usable") {
    Fixture f;
    auto [server, client] = handshake(f.server_ctx->native(), f.client_ctx->native());
    REQUIRE(server->handshake_done());
    const std::string big = random_bytes(256 << 10);
    CHECK(transfer(*client, *server, big) == big);
    server->release_buffers();
    client->release_buffers();
    CHECK(transfer(*client, *server, "NOOP\r\n") == "NOOP\r\n");
    CHECK(transfer(*server, *client, "250 ok\r\n") == "250 ok\r\n");
    // With unread ciphertext pending, release_buffers must not lose it.
    REQUIRE(client->write_plaintext("pending").ok());
    REQUIRE(server->feed_ciphertext(client->take_ciphertext()).ok());
    server->release_buffers();
    std::string got;
    server->read_plaintext(got);
    CHECK_MESSAGE(got == "pending", "got ", got, ", want pending");
}

}  // namespace postern::tls
