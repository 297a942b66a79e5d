#include "common/tls/tls_context.h"

#include <openssl/err.h>

#include "common/tls/tls_error.h"

namespace postern::tls {

namespace {

// TLS 1.2 suites: Mozilla "intermediate" (v5.7) minus the DHE ones, i.e.
// forward secrecy through ECDHE and AEAD ciphers only. TLS 1.3 keeps
// OpenSSL's default suites, which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Options shared by both roles. Compression invites CRIME; renegotiation
// has no use for mail and a history of DoS and injection (CVE-2009-3555).
constexpr uint64_t kOptions = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;

Result<SslCtxPtr> new_ctx(const SSL_METHOD* method) {
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(method));
    if (!ctx) return fail("tls: SSL_CTX_new failed: " + drain_openssl_errors());
    if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
        return fail("tls: cannot configure protocol or ciphers: " + drain_openssl_errors());
    }
    SSL_CTX_set_options(ctx.get(), kOptions);
    // Frees the 30+ KiB of record buffers while a connection idles.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

// A server SSL_CTX holding the key pair from the two PEM files.
Result<SslCtxPtr> load_server_ctx(const std::string& cert_file, const std::string& key_file) {
    auto ctx = new_ctx(TLS_server_method());
    if (!ctx) return fail(ctx.error());
    SSL_CTX* raw = ctx->get();
    // The client's list order is a preference; ours is a policy.
    SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
        return fail("tls: cannot load certificate " + cert_file + ": " + drain_openssl_errors());
    }
    if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return fail("tls: cannot load private key " + key_file + ": " + drain_openssl_errors());
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
        return fail("tls: private key " + key_file + " does not match certificate " + cert_file +
                    ": " + drain_openssl_errors());
    }
    return std::move(*ctx);
}

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::server(std::string cert_file,
                                                       std::string key_file) {
    auto ctx = load_server_ctx(cert_file, key_file);
    if (!ctx) return fail(ctx.error());
    std::unique_ptr<TlsContext> out(new TlsContext());
    out->ctx_ = std::move(*ctx);
    out->is_server_ = true;
    out->cert_file_ = std::move(cert_file);
    out->key_file_ = std::move(key_file);
    return out;
}

Result<std::unique_ptr<TlsContext>> TlsContext::client(bool verify_peer, std::string ca_file) {
    auto ctx = new_ctx(TLS_client_method());
    if (!ctx) return fail(ctx.error());
    SSL_CTX* raw = ctx->get();
    if (verify_peer) {
        SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
        const bool loaded = ca_file.empty()
                                ? SSL_CTX_set_default_verify_paths(raw) == 1
                                : SSL_CTX_load_verify_locations(raw, ca_file.c_str(), nullptr) == 1;
        if (!loaded) {
            const std::string what = ca_file.empty() ? "the system trust store" : ca_file;
            return fail("tls: cannot load CA certificates from " + what + ": " +
                        drain_openssl_errors());
        }
    } else {
        SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
    }
    std::unique_ptr<TlsContext> out(new TlsContext());
    out->ctx_ = std::move(*ctx);
    return out;
}

Status TlsContext::reload() {
    // A client context has no files; there is nothing to re-read.
    if (!is_server_) return {};
    auto ctx = load_server_ctx(cert_file_, key_file_);
    if (!ctx) return fail(ctx.error());
    // Streams made from the old SSL_CTX hold their own reference to it.
    ctx_ = std::move(*ctx);
    return {};
}

}  // namespace postern::tls
