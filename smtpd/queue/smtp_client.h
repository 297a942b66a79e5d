// The outbound SMTP client's transport: one blocking TCP connection to a
// server, optionally upgraded to TLS (RFC 3207), that sends bytes and reads
// replies (common/smtp's ReplyParser), every wait bounded by a deadline
// (poll(2) on a non-blocking socket, RFC 5321 §4.5.3.2 timeouts chosen by
// the caller).
//
// BLOCKING: pool or delivery threads only. The process must ignore SIGPIPE
// (the daemon skeleton does): OpenSSL writes with write(2), so a peer that
// resets the connection would otherwise kill us.
//
// Also here: what a server's EHLO reply offers (Capabilities).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/smtp/smtp_reply.h"

namespace postern::queue {

// Why a connection could not go on; decides the enhanced status code of the
// replies we make up for recipients (RFC 3463).
enum class IoFailure {
    Refused,   // connect(2) refused or unreachable: 4.4.1
    Timeout,   // no answer in time: 4.4.1
    Closed,    // the peer closed or reset the connection: 4.4.2
    Tls,       // handshake or TLS record failure: 4.4.2 (relayhost: 4.7.5)
    Protocol,  // the peer's bytes are not SMTP replies: 4.4.2
};

struct IoError {
    IoFailure kind = IoFailure::Closed;
    std::string message;  // for the log and the recipient's diagnostic
};

template <typename T>
using IoResult = Result<T, IoError>;

struct TlsInfo {
    std::string version;  // "TLSv1.3"
    std::string cipher;   // "TLS_AES_256_GCM_SHA384"
    bool verified = false;
    std::string verify_error;  // X509_verify_cert_error_string when not verified
};

class SmtpConnection {
  public:
    using Clock = std::chrono::steady_clock;

    // Connects to ip:port within `timeout`.
    static IoResult<std::unique_ptr<SmtpConnection>> open(const std::string& ip, std::uint16_t port,
                                                          std::chrono::milliseconds timeout);
    ~SmtpConnection();
    SmtpConnection(const SmtpConnection&) = delete;
    SmtpConnection& operator=(const SmtpConnection&) = delete;

    // Writes all of `bytes` (through TLS once started) within `timeout`.
    IoResult<void> send(std::string_view bytes, std::chrono::milliseconds timeout);
    // The next complete reply, possibly one that arrived with an earlier read
    // (pipelining).
    IoResult<smtp::Reply> read_reply(std::chrono::milliseconds timeout);

    // TLS client handshake over the connection, after the server's 220 to
    // STARTTLS. `peer_name` is sent as SNI and checked against the
    // certificate (a numeric IP is checked as an IP); with `require_verified`
    // a certificate that does not verify fails the handshake. Fails when
    // plaintext arrived after the 220 (RFC 3207 §5 note: that data could
    // have been injected, CVE-2011-0411).
    IoResult<TlsInfo> start_tls(SSL_CTX* ctx, const std::string& peer_name, bool require_verified,
                                std::chrono::milliseconds timeout);
    bool tls_active() const { return ssl_ != nullptr; }

  private:
    explicit SmtpConnection(int fd) : fd_(fd) {}

    IoResult<void> wait_for(short events, Clock::time_point deadline, const char* what);
    IoResult<std::size_t> read_some(char* buf, std::size_t size, Clock::time_point deadline);
    IoResult<std::size_t> write_some(std::string_view bytes, Clock::time_point deadline);
    IoError tls_error(int ret, const char* what);

    int fd_ = -1;
    SSL* ssl_ = nullptr;
    smtp::ReplyParser parser_;
};

// What the EHLO reply offers (RFC 5321 §4.1.1.1: keywords are the first
// word of each line after the first, case-insensitive).
struct Capabilities {
    bool esmtp = false;  // EHLO worked (else HELO: no extensions at all)
    bool pipelining = false;
    bool starttls = false;
    bool eightbitmime = false;
    bool smtputf8 = false;
    bool dsn = false;
    bool size = false;
    std::uint64_t max_size = 0;     // SIZE's argument; 0: no limit announced
    std::vector<std::string> auth;  // mechanisms, upper case
};

Capabilities parse_ehlo(const smtp::Reply& reply);

}  // namespace postern::queue
