// TlsStream: one TLS session over memory BIOs, independent of any socket or
// event loop. The connection layer moves bytes:
//
//   network bytes  --feed_ciphertext()-->  [TlsStream]  --read_plaintext()-->  protocol
//   protocol bytes --write_plaintext()-->  [TlsStream]  --take_ciphertext()--> network
//
// After creating a client stream and after every feed_ciphertext(),
// write_plaintext(), read_plaintext() or shutdown() the caller must send
// whatever take_ciphertext() returns (ClientHello, handshake messages,
// alerts, records) -- also after a failure, so the peer gets the alert.
// Records after the handshake (data, close_notify) are decrypted lazily by
// read_plaintext(), so unread ciphertext stays in the caller's budget.
// Guarantees: never buffers more plaintext than one TLS record beyond what the
// caller has not read; TLS 1.2+ only (from the context); renegotiation refused.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "common/base/result.h"

namespace postern::tls {

class TlsStream {
  public:
    enum class State { Handshaking, Open, Closed, Failed };

    // ctx must be a server or client context from TlsContext; the stream takes
    // its own reference on it, so a later reload does not affect this stream.
    static std::unique_ptr<TlsStream> server(SSL_CTX* ctx);
    // sni: the server name to send (empty: none; an IP literal is not sent,
    // RFC 6066 §3). When the context verifies peers, the certificate must
    // also match it (hostname or IP). The ClientHello is ready at once.
    static std::unique_ptr<TlsStream> client(SSL_CTX* ctx, std::string_view sni);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    // Bytes received from the network. Drives the handshake as needed.
    // Fails (and State becomes Failed) on a protocol error, e.g. a client
    // offering only TLS 1.0 or plaintext garbage.
    Status feed_ciphertext(std::string_view bytes);

    // Appends decrypted application data to `out`; returns how many bytes
    // were appended (0 when nothing is ready yet). A close_notify from the
    // peer moves State to Closed; a bad record moves it to Failed.
    std::size_t read_plaintext(std::string& out);

    // Encrypts application data. Allowed only once the handshake is done
    // (State::Open); before that, it fails.
    Status write_plaintext(std::string_view bytes);

    // Ciphertext waiting to go to the network; empties the outgoing buffer.
    std::string take_ciphertext();

    // Sends close_notify (the caller then flushes take_ciphertext()).
    void shutdown();

    State state() const { return state_; }
    bool handshake_done() const { return state_ == State::Open; }

    // For logs and the Received field: "TLSv1.3 TLS_AES_256_GCM_SHA384".
    std::string describe() const;
    // The error OpenSSL reported when State::Failed, for the log.
    const std::string& failure() const { return failure_; }

    // Lets OpenSSL free its read/write buffers while the connection idles
    // (an idle IMAP connection should cost a few KiB, not 40+).
    void release_buffers();

    // The session, for tests that inspect the peer certificate.
    SSL* native_for_test() const { return ssl_; }

  private:
    explicit TlsStream(SSL* ssl);
    Status drive_handshake();
    // Records the failure (stage plus OpenSSL's reasons) and enters Failed.
    Status fail_with(const char* stage, int ssl_error);

    SSL* ssl_ = nullptr;
    BIO* network_in_ = nullptr;   // we write received ciphertext here
    BIO* network_out_ = nullptr;  // OpenSSL writes ciphertext to send here
    State state_ = State::Handshaking;
    std::string failure_;
};

}  // namespace postern::tls
