#include "common/tls/tls_context.h"

#include <doctest/doctest.h>

#include <fstream>

#include "common/tls/tls_stream.h"
#include "tests/unit/common/tls/tls_test_util.h"

namespace postern::tls {

namespace {

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("server context errors name the file and the reason") {
    postern::test::TempDir dir;
    const auto good = test::make_cert(dir, "mail.test");
    const auto other = test::make_cert(dir, "other.test", "other");
    const std::string missing = (dir.path() / "missing.pem").string();
    const std::string garbage = (dir.path() / "garbage.pem").string();
    write_text(garbage, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n");

    struct Row {
        std::string name;
        std::string cert, key, want;
    };
    const Row rows[] = {
        {"missing certificate", missing, good.key, "certificate " + missing},
        {"missing key", good.cert, missing, "private key " + missing},
        {"garbage key", good.cert, garbage, "private key " + garbage},
        {"key as certificate", good.key, good.key, "certificate " + good.key},
        {"key of another certificate", good.cert, other.key, "private key " + other.key},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        const auto ctx = TlsContext::server(row.cert, row.key);
        REQUIRE_MESSAGE(!ctx.ok(), "got ok, want an error with ", row.want);
        const std::string& msg = ctx.error().message;
        CHECK_MESSAGE(contains(msg, row.want), "got ", msg, ", want ", row.want);
        // OpenSSL's reason follows the file name.
        CHECK_MESSAGE(msg.size() > msg.find(row.want) + row.want.size() + 2, "got ", msg);
    }
    CHECK(contains(test::error_text(TlsContext::server(missing, good.key)), "No such file"));
    CHECK(contains(test::error_text(TlsContext::server(good.cert, other.key)), "mismatch"));
}

TEST_CASE("a client context with a missing CA file fails") {
    const auto ctx = TlsContext::client(true, "/nonexistent/ca.pem");
    REQUIRE(!ctx.ok());
    CHECK_MESSAGE(contains(ctx.error().message, "/nonexistent/ca.pem"), "got ",
                  ctx.error().message);
    CHECK(TlsContext::client(false).ok());
}

TEST_CASE("the server context has the promised settings") {
    postern::test::TempDir dir;
    const auto files = test::make_cert(dir, "mail.test");
    auto ctx = TlsContext::server(files.cert, files.key);
    REQUIRE(ctx.ok());
    SSL_CTX* raw = (*ctx)->native();
    CHECK((*ctx)->is_server());
    CHECK(SSL_CTX_get_min_proto_version(raw) == TLS1_2_VERSION);
    const uint64_t opts = SSL_CTX_get_options(raw);
    CHECK((opts & SSL_OP_NO_COMPRESSION) != 0);
    CHECK((opts & SSL_OP_NO_RENEGOTIATION) != 0);
    CHECK((opts & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
    CHECK((SSL_CTX_get_mode(raw) & SSL_MODE_RELEASE_BUFFERS) != 0);
    // Every TLS 1.2 suite is ECDHE with an AEAD cipher.
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(raw);
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
        const std::string name = SSL_CIPHER_get_name(c);
        CAPTURE(name);
        if (contains(name, "TLS_")) continue;  // TLS 1.3 suites are all AEAD
        CHECK(SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe);
        CHECK(SSL_CIPHER_is_aead(c) == 1);
    }
}

TEST_CASE("reload keeps the old context when the new key is broken") {
    postern::test::TempDir dir;
    const auto files = test::make_cert(dir, "old.test");
    auto ctx = TlsContext::server(files.cert, files.key).value();
    auto client_ctx = TlsContext::client(false).value();
    SSL_CTX* before = ctx->native();

    write_text(files.key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
    const auto st = ctx->reload();
    REQUIRE_MESSAGE(!st.ok(), "got ok, want a reload error");
    CHECK_MESSAGE(contains(st.error().message, files.key), "got ", st.error().message,
                  ", want the key file named");
    CHECK(ctx->native() == before);

    auto [server, client] = test::handshake(ctx->native(), client_ctx->native());
    CHECK_MESSAGE(server->handshake_done(), "server: ", server->failure());
    CHECK(test::peer_common_name(*client) == "old.test");
}

TEST_CASE("reload with a new certificate: new streams get it, old streams keep working") {
    postern::test::TempDir dir;
    const auto files = test::make_cert(dir, "old.test");
    auto ctx = TlsContext::server(files.cert, files.key).value();
    auto client_ctx = TlsContext::client(false).value();

    auto old_pair = test::handshake(ctx->native(), client_ctx->native());
    REQUIRE(old_pair.server->handshake_done());
    CHECK(test::peer_common_name(*old_pair.client) == "old.test");

    test::make_cert(dir, "new.test");  // same file names
    const auto st = ctx->reload();
    REQUIRE_MESSAGE(st.ok(), "reload: ", test::error_text(st));

    auto new_pair = test::handshake(ctx->native(), client_ctx->native());
    REQUIRE_MESSAGE(new_pair.server->handshake_done(), "server: ", new_pair.server->failure());
    CHECK(test::peer_common_name(*new_pair.client) == "new.test");

    // The old session still holds (and uses) the SSL_CTX that reload dropped.
    CHECK(test::transfer(*old_pair.client, *old_pair.server, "still here\r\n") == "still here\r\n");
    CHECK(test::transfer(*old_pair.server, *old_pair.client, "+OK\r\n") == "+OK\r\n");
    auto late = TlsStream::server(ctx->native());
    CHECK(late->state() == TlsStream::State::Handshaking);
}

TEST_CASE("reload of a client context is a no-op") {
    auto ctx = TlsContext::client(false).value();
    CHECK_FALSE(ctx->is_server());
    CHECK(ctx->reload().ok());
}

}  // namespace postern::tls
