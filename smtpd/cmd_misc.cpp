// RSET, NOOP, QUIT, VRFY, EXPN and HELP (RFC 5321 §4.1.1.5 - §4.1.1.10).
// VRFY never tells whether a user exists (252, RFC 5321 §3.5.3): address
// harvesting gets nothing. EXPN is not offered (502, §3.5.2 allows it).
#include "smtpd/smtp_session.h"

namespace postern::smtp {

void SmtpSession::cmd_rset(const Command&) {
    reset_transaction();
    reply(250, "2.0.0", "OK");
}

void SmtpSession::cmd_noop(const Command&) {
    reply(250, "2.0.0", "OK");
}

void SmtpSession::cmd_quit(const Command&) {
    close_with_reply("221 2.0.0 Bye", "quit");
}

void SmtpSession::cmd_vrfy(const Command&) {
    reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

void SmtpSession::cmd_expn(const Command&) {
    reply(502, "5.5.1", "EXPN not available");
}

void SmtpSession::cmd_help(const Command&) {
    reply(214, "2.0.0",
          "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
}

}  // namespace postern::smtp
