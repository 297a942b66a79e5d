// Opening an SMTP client session with one server address (RFC 5321 §3.1,
// §4.1.1.1; RFC 3207; RFC 4954): connect, 220 greeting, EHLO (HELO when
// EHLO is refused), STARTTLS when offered and we have a TLS context (then
// EHLO again), AUTH PLAIN or LOGIN when a user is configured; QUIT at the
// end. A failure here is a property of the host, not of any message: the
// caller tries the next address with the reply we make up.
//
// BLOCKING: see smtp_client.h.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/base/result.h"
#include "common/smtp/smtp_reply.h"
#include "smtpd/queue/smtp_client.h"

namespace postern::queue {

struct SessionTimeouts {
    std::chrono::milliseconds connect{30000};
    std::chrono::milliseconds greeting{300000};   // also STARTTLS's handshake
    std::chrono::milliseconds command{300000};    // EHLO, AUTH, MAIL, RCPT, RSET, QUIT
    std::chrono::milliseconds data_init{120000};  // RFC 5321 §4.5.3.2.4: DATA -> 354
    std::chrono::milliseconds data_block{180000};
    std::chrono::milliseconds data_done{600000};
};

struct SessionConfig {
    std::string helo_name;
    SSL_CTX* tls = nullptr;     // nullptr: never STARTTLS
    bool tls_required = false;  // relayhost: no STARTTLS or no verified certificate fails
    std::string user;           // "" for no AUTH
    std::string password;
    SessionTimeouts timeouts;
};

// Why a host could not be used: the reply every recipient gets if no
// other host works.
struct HostFailure {
    smtp::Reply reply;
    std::string remote_host;  // "" when no SMTP greeting was read
};

class ClientSession {
  public:
    static Result<std::unique_ptr<ClientSession>, HostFailure> open(const SessionConfig& config,
                                                                    const std::string& host_name,
                                                                    const std::string& ip,
                                                                    std::uint16_t port);

    SmtpConnection& connection() { return *conn_; }
    const Capabilities& capabilities() const { return caps_; }
    const SessionTimeouts& timeouts() const { return config_.timeouts; }
    const std::string& remote() const { return remote_; }  // "mx.example.net[192.0.2.1]"
    // Sends QUIT and reads its reply (errors ignored: the mail is delivered).
    void quit();

  private:
    ClientSession(const SessionConfig& config, std::unique_ptr<SmtpConnection> conn,
                  std::string host_name, std::string remote)
        : config_(config),
          conn_(std::move(conn)),
          host_name_(std::move(host_name)),
          remote_(std::move(remote)) {}

    Result<void, HostFailure> greet();
    Result<void, HostFailure> hello();
    Result<void, HostFailure> start_tls();
    Result<void, HostFailure> authenticate();
    IoResult<smtp::Reply> command(const std::string& line);
    HostFailure io_failure(const IoError& error, const char* stage) const;
    HostFailure refused(const smtp::Reply& reply, const char* stage, const char* enhanced) const;

    SessionConfig config_;
    std::unique_ptr<SmtpConnection> conn_;
    std::string host_name_;
    std::string remote_;
    Capabilities caps_;
};

// A reply a remote server gave, made safe to keep and re-render: codes
// outside 200..559 and enhanced codes of the wrong class (a hostile or
// broken server) become our own 451/554 with the text kept.
smtp::Reply sanitize_reply(const smtp::Reply& reply);

}  // namespace postern::queue
