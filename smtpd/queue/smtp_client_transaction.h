// One message over an open client session (RFC 5321 §3.3): MAIL FROM with
// the parameters the server offers (SIZE RFC 1870, BODY=8BITMIME RFC 6152,
// SMTPUTF8 RFC 6531, RET/ENVID RFC 3461), RCPT TO per recipient
// (NOTIFY/ORCPT), DATA with the body streamed from the spool file in
// chunks and dot-stuffed by smtp::DotEncoder.
//
// With PIPELINING (RFC 2920 §3.1) MAIL and every RCPT go out in one write
// and their replies are read in order; DATA is sent only after them, so a
// message none of whose recipients was accepted never starts DATA.
//
// Fills in a reply for every recipient: the server's (sanitized) or our
// own when the connection failed on the way.
#pragma once

#include "smtpd/queue/remote_delivery.h"
#include "smtpd/queue/smtp_client_session.h"

namespace postern::queue {

// Returns false when the connection cannot carry another message (lost,
// 421, or abandoned in the middle of DATA).
bool send_message(ClientSession& session, const OutboundMessage& message, MessageOutcome& outcome);

// Our own reply for a connection lost (or timed out) at `stage`.
smtp::Reply lost_connection_reply(const std::string& remote, const char* stage,
                                  const IoError& error);

}  // namespace postern::queue
