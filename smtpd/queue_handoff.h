// The hand-offs from an SMTP transaction to the outbound queue.
//
// Submission: a message with at least one remote recipient goes whole to
// the queue (local recipients too); the queue runner delivers local ones to
// mda, so a message is accepted once for all its recipients or refused,
// and any later failure becomes a bounce instead of a half-accepted
// transaction.
//
// Partial delivery (smtpd and submission): when mda takes the message for
// some recipients and refuses others, SMTP has only one reply after DATA
// (RFC 5321 §3.3). Refusing would make the client send it again to the
// ones that have it; accepting would lose the rest. So the refused
// recipients go to the queue: temporary failures are retried there,
// permanent ones bounce (RFC 5321 §6.1 / §4.5.5: once accepted, failures
// are reported by a DSN), and the client gets 250.
//
// BLOCKING: enqueue() and defer_failures() write and fsync; pool only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpd/lmtp_client.h"
#include "smtpd/transaction.h"
#include "storage/queue_envelope.h"

namespace postern::smtp {

// What the pool job that enqueues reports back: the queue id, or why not.
struct QueueOutcome {
    std::string id;
    std::string error;
};

// What the pool job after DATA reports: mda's replies, and where the
// recipients it refused went when others were delivered.
struct DeliveryOutcome {
    LmtpOutcome lmtp;
    std::optional<QueueOutcome> deferred;
};

store::Envelope queue_envelope(const Transaction& tx, std::string_view user, std::int64_t now);

// True when some recipient of the transaction is not local.
bool has_remote_recipient(const Transaction& tx);

// Writes the message (prefix, then the spooled body) into the queue.
QueueOutcome enqueue(const std::filesystem::path& queue_dir, store::Envelope envelope,
                     const std::string& prefix, const Spool& body);

// Some replies positive and some not.
bool partly_delivered(const std::vector<Reply>& replies);

// Queues the message for the recipients whose reply was a failure:
// temporary ones Pending (retried by the runner), permanent ones Failed
// with mda's reply (bounced by the runner).
QueueOutcome defer_failures(const std::filesystem::path& queue_dir, const Transaction& tx,
                            std::string_view user, const std::string& prefix,
                            const LmtpOutcome& outcome, std::int64_t now);

}  // namespace postern::smtp
