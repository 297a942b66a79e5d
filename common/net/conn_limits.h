// ConnectionLimits: the abuse limits every listener enforces before any
// protocol parsing (STYLE.md §8, first tier). Breaking one closes the
// connection or refuses it; policy limits (SIZE, recipients) live in each
// protocol's own limits struct. The config key is the field name.
#pragma once

#include <chrono>
#include <cstddef>

namespace postern::net {

struct ConnectionLimits {
    // One command line including its CRLF. RFC 5321 §4.5.3.1.4 sets 512 as
    // the minimum; extensions (AUTH with SASL-IR, IMAP) need more. Dovecot
    // and Postfix use 2-8 KiB.
    std::size_t max_line_bytes = 8192;
    // One IMAP literal / one SMTP BDAT chunk, streamed, never buffered whole.
    std::size_t max_literal_bytes = 64u << 20;
    // RFC 5321 §4.5.3.2.7: a server should wait at least 5 minutes.
    // (RFC 9051 §5.4 asks 30 minutes for IMAP; the service overrides.)
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    // Total session lifetime, against slow-drip clients that reset the idle
    // timer forever. IMAP IDLE sessions set this much higher.
    std::chrono::milliseconds session_timeout{std::chrono::hours(1)};
    // Whole-listener cap: sockets and memory, not fairness.
    unsigned max_connections_total = 1000;
    // Per client IP (Postfix anvil's smtpd_client_connection_count_limit
    // defaults to 50; a mail client rarely opens more than 10).
    unsigned max_connections_per_ip = 20;
    // Dovecot CLIENT_MAX_BAD_COMMANDS; Postfix smtpd_hard_error_limit is 20.
    unsigned max_bad_commands = 20;
    // Output queue: over the high watermark the connection stops reading and
    // the session stops producing; below the low watermark both resume.
    std::size_t write_high_watermark_bytes = 256u << 10;
    std::size_t write_low_watermark_bytes = 64u << 10;
};

}  // namespace postern::net
