// EHLO and HELO (RFC 5321 §4.1.1.1): reset any transaction, remember the
// client's name for the Received field, and list the extensions.
//
// ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
//             / ( "250-" Domain [ SP ehlo-greet ] CRLF
//                 *( "250-" ehlo-line CRLF ) "250" SP ehlo-line CRLF )
#include "smtpd/smtp_session.h"

namespace postern::smtp {

bool SmtpSession::auth_allowed_here() {
    if (!context_.profile.offers_auth) return false;
    if (tls_active() || !context_.profile.auth_requires_tls) return true;
    return context_.allow_plaintext_auth_on_loopback && peer().is_loopback();
}

void SmtpSession::cmd_ehlo(const Command& cmd) {
    reset_transaction();
    helo_ = cmd.argument;
    esmtp_ = true;
    enter(State::Ready);
    Reply r{250, "", {context_.hostname}};
    r.lines.push_back("PIPELINING");
    r.lines.push_back("SIZE " + std::to_string(context_.limits.max_message_bytes));
    r.lines.push_back("ENHANCEDSTATUSCODES");
    r.lines.push_back("8BITMIME");
    r.lines.push_back("SMTPUTF8");
    r.lines.push_back("CHUNKING");
    r.lines.push_back("DSN");
    if (context_.tls != nullptr && !tls_active()) r.lines.push_back("STARTTLS");
    // RFC 4954 §4 and Postfix's smtpd_tls_auth_only: mechanisms that send
    // passwords are not even offered before TLS.
    if (auth_allowed_here() && !user_) r.lines.push_back("AUTH PLAIN LOGIN");
    r.lines.push_back("HELP");
    reply(r);
}

void SmtpSession::cmd_helo(const Command& cmd) {
    reset_transaction();
    helo_ = cmd.argument;
    esmtp_ = false;
    enter(State::Ready);
    reply(250, "", context_.hostname);
}

}  // namespace postern::smtp
