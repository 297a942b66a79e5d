// Bounces: the delivery status notification (RFC 3464, multipart/report
// per RFC 6522) that tells a sender which recipients failed for good.
//
// The report has three parts: a short human explanation, the
// machine-readable message/delivery-status (one per-recipient block per
// failed recipient, with the remote server's own reply as the
// Diagnostic-Code), and the original message: in full when the sender asked
// for RET=FULL and it is not larger than kMaxReturnedMessageBytes, else its
// header only (text/rfc822-headers), which is also the default (RFC 3461
// §4.3 leaves it to us; headers suffice to recognise the message).
//
// The bounce is itself queued with the null reverse-path (RFC 5321 §4.5.5),
// so it can never bounce again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/queue_spool.h"

namespace postern::queue {

// Beyond this a RET=FULL bounce carries only the header (Postfix's
// bounce_size_limit is 50 KB; a few MB still fits every mailbox).
inline constexpr std::uint64_t kMaxReturnedMessageBytes = 4 * 1024 * 1024;
// The original's header section, when it is all we return, stops here.
inline constexpr std::size_t kMaxReturnedHeaderBytes = 64 * 1024;

struct Bounce {
    store::Envelope envelope;  // to the original sender, from <>
    std::string head;          // everything before the original message
    std::filesystem::path original;
    bool full = false;  // the whole original, else up to its blank line
    std::string tail;   // the closing boundary
};

// Whether the sender wants to hear about these failures (RFC 3461 §4.1:
// NOTIFY=NEVER, or NOTIFY without FAILURE, means no), and the null sender
// never gets a bounce. `failed` are indices into original.recipients.
bool wants_failure_notice(const store::Envelope& original, const std::vector<std::size_t>& failed);

// Builds the bounce for the failed recipients of `original`, whose message
// is the file `original_path`. `reporting_mta` is our host name.
Bounce make_bounce(const store::Envelope& original, const std::vector<std::size_t>& failed,
                   const std::filesystem::path& original_path, const std::string& reporting_mta,
                   std::int64_t now);

// Streams head, the original (or its header), tail: a store::BodySource.
Status stream_bounce(const Bounce& bounce, const std::function<bool(std::string_view)>& sink);

}  // namespace postern::queue
