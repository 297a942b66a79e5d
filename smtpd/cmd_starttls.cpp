// STARTTLS (RFC 3207). After "220 Ready", every plaintext byte the client
// pipelined behind the command is discarded unread (CVE-2011-0411:
// net::Connection::start_tls does it), and the session forgets everything
// learnt before TLS: the EHLO name, any transaction and any login
// (RFC 3207 §4.2). The client must EHLO again.
#include "common/log/log.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {

void SmtpSession::cmd_starttls(const Command&) {
    if (context_.tls == nullptr) {
        reply(454, "4.7.0", "TLS not available");
        return;
    }
    if (tls_active()) {
        reply_bad(503, "5.5.1", "TLS already active");
        return;
    }
    reply(220, "2.0.0", "Ready to start TLS");
    std::size_t dropped = connection().start_tls(context_.tls->native());
    if (dropped > 0) {
        log::warn(log_context(), "starttls-pipelined-plaintext-discarded").kv("bytes", dropped);
    }
    helo_.clear();
    esmtp_ = false;
    user_.reset();
    reset_transaction();
    enter(State::Init);
}

}  // namespace postern::smtp
