// Remote delivery: one SMTP client conversation (or a few, trying each
// MX host in turn) that hands a batch of queued messages for one
// destination to the server responsible for it.
//
// BLOCKING: runs on a pool thread, never the loop; every network wait is
// bounded by the RFC 5321 §4.5.3.2 timeouts in DeliveryOptions.
//
// What it does (RFC 5321 §5.1, §4.5.3.2; RFC 3207; RFC 2920; RFC 4954):
// - the destination is a domain (route via dns::route_domain) or the
//   relayhost (its host resolved, port as configured);
// - for each host in order, each of its addresses: connect, read the 220
//   greeting, EHLO (HELO if EHLO is refused), STARTTLS when offered
//   (opportunistic: a failed handshake moves to the next host; with a
//   relayhost TLS is required and its certificate is verified), EHLO again;
//   with a relayhost, AUTH PLAIN (or LOGIN) with the configured user;
// - then every message of the batch over the same connection (RSET
//   between messages): MAIL FROM (SIZE=, BODY=8BITMIME, SMTPUTF8 when the
//   message needs them and the server offers them; a message that needs
//   SMTPUTF8 to a server without it fails permanently, RFC 6531 §3.4),
//   RCPT TO for each recipient, DATA with the dot-stuffed body read from
//   the spool file; MAIL/RCPT/DATA pipelined when PIPELINING is offered;
//   DSN parameters (NOTIFY, ORCPT, ENVID, RET) passed when DSN is offered;
// - QUIT at the end.
// A host that fails before the first MAIL (connect, greeting 4xx/5xx,
// TLS, EHLO) is skipped for the next one; a 421 or lost connection in
// the middle leaves the remaining recipients temporarily failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/dns/resolver.h"
#include "common/smtp/smtp_reply.h"

namespace postern::queue {

struct OutboundRecipient {
    std::string address;
    std::string orcpt;    // "rfc822;a@b" or ""
    unsigned notify = 0;  // store::NotifyBits
};

struct OutboundMessage {
    std::string id;      // queue id, for logs
    std::string sender;  // "" null reverse-path
    std::string envid;
    bool ret_full = false;
    bool smtputf8 = false;
    bool eight_bit = false;
    std::uint64_t size = 0;
    std::filesystem::path body_file;            // msg/<id>: CRLF lines, not dot-stuffed
    std::vector<OutboundRecipient> recipients;  // all in the batch's destination
};

struct RecipientOutcome {
    smtp::Reply reply;        // 2xx delivered; 4xx retry; 5xx bounce
    std::string remote_host;  // "mx.example.net[192.0.2.1]" or "" when none was reached
};

struct MessageOutcome {
    std::vector<RecipientOutcome> recipients;  // same order and size as the message's
};

struct Relayhost {
    std::string host;  // name or IP
    std::uint16_t port = 587;
    std::string user;      // "" for no AUTH
    std::string password;  // read from queue.relayhost_password_file
    std::string ca_file;   // "" for the system's trust store
};

struct DeliveryOptions {
    dns::ResolverConfig dns;
    std::uint16_t port = 25;  // queue.remote_port (tests point it at a loopback peer)
    std::string helo_name;    // our hostname
    std::optional<Relayhost> relayhost;
    // RFC 5321 §4.5.3.2 minimums.
    std::chrono::seconds connect_timeout{30};
    std::chrono::seconds greeting_timeout{300};
    std::chrono::seconds command_timeout{300};
    std::chrono::seconds data_block_timeout{180};
    std::chrono::seconds data_done_timeout{600};
};

// Delivers `batch` (every recipient in `domain`, or anything when a
// relayhost is set) and reports what happened to each recipient. Never
// throws; every failure is a reply (our own, e.g. "451 4.4.1 Connection
// refused by every MX host" or "550 5.1.10 Null MX", for the bounce text).
std::vector<MessageOutcome> deliver_batch(const DeliveryOptions& options, const std::string& domain,
                                          const std::vector<OutboundMessage>& batch);

}  // namespace postern::queue
