// SmtpLimits: the policy limits of one SMTP session (STYLE.md §8, second
// tier). Breaking one gets a protocol reply and the session goes on; the
// abuse limits (line length, idle and session timeouts, connection caps, bad
// commands) are net::ConnectionLimits, enforced before any parsing.
// Defaults come from the config (smtp.* keys); the numbers here are the
// fallbacks for tests and are cited where they come from.
#pragma once

#include <cstddef>
#include <cstdint>

namespace postern::smtp {

struct SmtpLimits {
    // Advertised in SIZE (RFC 1870); over it, at MAIL or at end of data:
    // 552 5.3.4. 50 MiB is the config default (smtp.max_message_bytes).
    std::uint64_t max_message_bytes = 50u << 20;
    // RFC 5321 §4.5.3.1.8: at least 100 must be accepted; over it 452 4.5.3.
    std::size_t max_recipients = 100;
    // Received fields after which a message is looping (RFC 5321 §6.3);
    // Postfix's hopcount_limit is 50, the config default 100.
    std::size_t max_received_headers = 100;
    // One line of message text inside DATA. RFC 5321 §4.5.3.1.6 allows 1000
    // octets; real HTML mail exceeds that, and Postfix reads 2048 before
    // splitting. 64 KiB bounds what one session buffers for a line; longer
    // lines get the message refused with 550 5.6.0 (never truncated).
    std::size_t max_data_line_bytes = 64u << 10;
    // Message bytes held in memory before the spool spills to a file.
    std::size_t spool_memory_bytes = 256u << 10;
};

}  // namespace postern::smtp
