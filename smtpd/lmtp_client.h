// LMTP client (RFC 2033): hands one message to mda over its unix socket and
// returns one reply per recipient, so the session can answer the SMTP client
// only once every recipient's copy is durable (mda replies 250 per
// recipient after its fsyncs).
//
// BLOCKING: runs on the libuv pool (loop::submit_work), never on the loop.
// Every read and write is bounded by request.timeout. The body is sent
// dot-stuffed through common/smtp's DotEncoder, which also turns any bare CR
// or LF into CRLF, so mda never sees a bare newline.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/smtp/smtp_reply.h"
#include "storage/queue_spool.h"

namespace postern::smtp {

struct LmtpRequest {
    std::filesystem::path socket;
    std::string lhlo_host;
    std::string sender;  // "" for the null reverse-path
    bool smtputf8 = false;
    bool eight_bit = false;               // BODY=8BITMIME
    std::vector<std::string> recipients;  // "local@domain"
    std::string prefix;                   // trace fields we add, CRLF-terminated
    store::BodySource body;               // read on the pool thread
    // RFC 5321 §4.5.3.2.6: a client waits 10 minutes for the reply after DATA.
    std::chrono::seconds timeout{600};
};

struct LmtpOutcome {
    std::vector<std::string> recipients;  // a copy of the request's, for the log
    // One reply per recipient, in request order: the RCPT refusal, or the
    // reply after DATA. Always recipients.size() entries.
    std::vector<Reply> replies;
    // Non-empty when the exchange itself failed (no socket, timeout, a
    // protocol error); every reply is then a temporary failure.
    std::string error;
};

LmtpOutcome lmtp_deliver(const LmtpRequest& request);

// The single SMTP reply after DATA for per-recipient outcomes. All 2xx:
// 250. Otherwise the worst outcome decides (permanent over temporary).
// When some recipients succeeded the session hands the others to the queue
// and says 250 instead (queue_handoff.h); only if that fails does this
// reply stand, and the client's retry may then duplicate the message for
// the recipients that have it, which RFC 5321 §6.1 prefers to a loss.
Reply aggregate_replies(const std::vector<Reply>& replies);

}  // namespace postern::smtp
