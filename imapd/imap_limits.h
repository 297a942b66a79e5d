// ImapLimits: every limit imapd enforces, with units and the source of each
// default (STYLE.md §8). Abuse limits (line, literal) are enforced by the
// LineReader and the parser before a command runs; past them the client gets
// BAD / NO [TOOBIG] or, where the stream can no longer be trusted, * BYE.
// The configurable ones come from the config's "imap" section.
#pragma once

#include <chrono>
#include <cstddef>

namespace postern::imap {

struct ImapLimits {
    // One command line without its literals. RFC 7162 §4 asks servers to
    // accept at least 8192 octets; config imap.max_line_bytes.
    std::size_t max_line_bytes = 65536;
    // The literals of one APPEND together (one message, or a MULTIAPPEND
    // batch, RFC 3502). Larger: NO [TOOBIG] before any of it is read (RFC
    // 7889); config imap.max_literal_bytes.
    std::size_t max_literal_bytes = 50u << 20;
    // Literals of every other command (mailbox names, passwords, search
    // strings) are short; a huge one is an attack, not a request.
    std::size_t max_string_literal_bytes = 65536;
    // {n+} literals: the client sends them without waiting, so a large one
    // cannot be refused without closing. 4096 is LITERAL- (RFC 7888 §4);
    // config imap.max_nonsync_literal_bytes.
    std::size_t max_nonsync_literal_bytes = 4096;
    // Literals in one command: APPEND needs one per message (MULTIAPPEND).
    std::size_t max_literals_per_command = 64;
    // Parenthesis depth of one command; FETCH/SEARCH need 3-4 levels.
    // Dovecot's parser stops at 100; deep nesting only burns stack.
    std::size_t max_list_depth = 32;
    // Arguments in one command, counting list elements (a SEARCH with a
    // thousand criteria is still a real client; a million is not).
    std::size_t max_arguments = 10000;
    // Ranges in one sequence set before merging. Bounded by the line length
    // anyway; this caps the work of a literal-free pathological set.
    std::size_t max_seqset_ranges = 1u << 20;
    // Dovecot CLIENT_MAX_BAD_COMMANDS; config imap.max_bad_commands.
    unsigned max_bad_commands = 20;
    // Client silence outside IDLE before * BYE. RFC 9051 §5.4: at least 30
    // minutes; config imap.idle_timeout_seconds.
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(30)};
    // A client in IDLE is kept at least this long after its IDLE command,
    // whatever idle_timeout says: RFC 2177 §3 has clients re-issue IDLE
    // every 29 minutes.
    std::chrono::milliseconds idle_keepalive{std::chrono::minutes(29)};
    // Whole-session lifetime, against slow-drip clients that keep resetting
    // the silence timer (net::ConnectionLimits' default). IDLE extends it:
    // a session is never cut while idling, nor within idle_keepalive of its
    // last IDLE (or idle_timeout, if longer).
    std::chrono::milliseconds session_lifetime{std::chrono::hours(1)};
    // FETCH renders at most this many messages per pool job, then yields to
    // the loop so one big FETCH never holds everything in memory.
    std::size_t fetch_batch_messages = 100;
};

// libuv pool threads (imapd/main.cpp says why not libuv's default 4), as
// many as smtpd and pop3d use.
inline constexpr const char* kPoolThreads = "16";

}  // namespace postern::imap
