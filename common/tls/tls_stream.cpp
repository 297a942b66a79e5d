#include "common/tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <climits>

#include "common/base/assert.h"
#include "common/tls/tls_error.h"

namespace postern::tls {

namespace {

// Largest chunk handed to one BIO/SSL call: their lengths are ints.
constexpr std::size_t kMaxChunkBytes = INT_MAX;

// A memory BIO that reports "retry" rather than EOF when empty: more
// ciphertext may always arrive from the network.
BIO* new_network_bio() {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) POSTERN_PANIC("tls: out of memory creating a BIO");
    BIO_set_mem_eof_return(bio, -1);
    return bio;
}

// SNI carries host names only (RFC 6066 §3); verification takes either.
bool is_ip_literal(std::string_view name) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(std::string(name).c_str());
    ASN1_OCTET_STRING_free(ip);
    return ip != nullptr;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl)
    : ssl_(ssl), network_in_(new_network_bio()), network_out_(new_network_bio()) {
    // The SSL owns both BIOs from here on.
    SSL_set_bio(ssl_, network_in_, network_out_);
}

TlsStream::~TlsStream() {
    SSL_free(ssl_);
}

std::unique_ptr<TlsStream> TlsStream::server(SSL_CTX* ctx) {
    SSL* ssl = SSL_new(ctx);  // takes a reference on ctx
    if (ssl == nullptr) POSTERN_PANIC("tls: SSL_new failed (out of memory)");
    std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
    SSL_set_accept_state(ssl);
    return stream;
}

std::unique_ptr<TlsStream> TlsStream::client(SSL_CTX* ctx, std::string_view sni) {
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr) POSTERN_PANIC("tls: SSL_new failed (out of memory)");
    std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
    SSL_set_connect_state(ssl);
    if (!sni.empty()) {
        const std::string name(sni);
        const bool ip = is_ip_literal(name);
        if (!ip) SSL_set_tlsext_host_name(ssl, name.c_str());
        if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            if (ip) {
                X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
            } else {
                SSL_set1_host(ssl, name.c_str());
            }
        }
    }
    // Produces the ClientHello so that take_ciphertext() has it at once.
    (void)stream->drive_handshake();
    return stream;
}

Status TlsStream::fail_with(const char* stage, int ssl_error) {
    std::string reason;
    if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        reason = "unexpected end of stream";
    } else {
        reason = drain_openssl_errors();
    }
    if (SSL_get_verify_result(ssl_) != X509_V_OK && state_ == State::Handshaking) {
        reason += " (verify: ";
        reason += X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
        reason += ")";
    }
    failure_ = std::string(stage) + ": " + reason;
    state_ = State::Failed;
    return fail(failure_);
}

Status TlsStream::drive_handshake() {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
        state_ = State::Open;
        return {};
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return {};
    return fail_with("handshake", err);
}

Status TlsStream::feed_ciphertext(std::string_view bytes) {
    if (state_ == State::Failed) return fail(failure_);
    // After close_notify nothing the peer sends matters any more.
    if (state_ == State::Closed) return {};
    while (!bytes.empty()) {
        const std::size_t n = std::min(bytes.size(), kMaxChunkBytes);
        // A memory BIO grows as needed; it only fails when out of memory.
        if (BIO_write(network_in_, bytes.data(), static_cast<int>(n)) != static_cast<int>(n)) {
            POSTERN_PANIC("tls: BIO_write to a memory BIO failed (out of memory)");
        }
        bytes.remove_prefix(n);
    }
    if (state_ == State::Handshaking) return drive_handshake();
    return {};
}

std::size_t TlsStream::read_plaintext(std::string& out) {
    if (state_ != State::Open) return 0;
    std::size_t total = 0;
    char buf[16384];  // one TLS record's plaintext at most (RFC 8446 §5.1)
    for (;;) {
        ERR_clear_error();
        std::size_t got = 0;
        const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &got);
        if (rc == 1) {
            out.append(buf, got);
            total += got;
            continue;
        }
        const int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_ZERO_RETURN) {
            state_ = State::Closed;  // the peer sent close_notify
        } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            (void)fail_with("read", err);
        }
        return total;
    }
}

Status TlsStream::write_plaintext(std::string_view bytes) {
    if (state_ != State::Open) {
        return fail(state_ == State::Failed ? failure_
                                            : "tls: write before handshake or after close");
    }
    while (!bytes.empty()) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
        if (rc != 1) return fail_with("write", SSL_get_error(ssl_, rc));
        bytes.remove_prefix(written);
    }
    return {};
}

std::string TlsStream::take_ciphertext() {
    std::string out;
    const std::size_t pending = BIO_ctrl_pending(network_out_);
    if (pending == 0) return out;
    out.resize(pending);
    std::size_t got = 0;
    if (BIO_read_ex(network_out_, out.data(), pending, &got) != 1) got = 0;
    out.resize(got);
    return out;
}

void TlsStream::shutdown() {
    // Also answers a peer's close_notify with ours (State already Closed).
    const bool sent = (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
    if (state_ != State::Failed && SSL_is_init_finished(ssl_) && !sent) {
        ERR_clear_error();
        // Queues close_notify; we do not wait for the peer's (RFC 8446 §6.1
        // allows closing the write side alone).
        (void)SSL_shutdown(ssl_);
        ERR_clear_error();
    }
    if (state_ != State::Failed) state_ = State::Closed;
}

std::string TlsStream::describe() const {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
    if (cipher == nullptr) return "none";
    return std::string(SSL_get_version(ssl_)) + " " + SSL_CIPHER_get_name(cipher);
}

void TlsStream::release_buffers() {
    // Record buffers: freed only when no partial record is pending.
    (void)SSL_free_buffers(ssl_);
    // Memory BIOs keep their high-water capacity (a 1 MiB burst keeps
    // 1 MiB); replacing an empty one gives that memory back.
    if (BIO_ctrl_pending(network_in_) == 0) {
        network_in_ = new_network_bio();
        SSL_set0_rbio(ssl_, network_in_);
    }
    if (BIO_ctrl_pending(network_out_) == 0) {
        network_out_ = new_network_bio();
        SSL_set0_wbio(ssl_, network_out_);
    }
}

}  // namespace postern::tls
