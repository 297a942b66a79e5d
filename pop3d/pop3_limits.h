// Pop3Limits: every POP3 limit, named with its unit, with the source of its
// default (STYLE.md §8). The first three come from the config's "pop3"
// section and become the listener's ConnectionLimits (abuse tier, enforced
// by LineReader/Session before any parsing); the rest are fixed policy.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace postern::pop3 {

struct Pop3Limits {
    // RFC 2449 §4: a command line is at most 255 octets including CRLF; the
    // rest is margin for AUTH PLAIN initial responses (config pop3.max_line_bytes).
    std::size_t max_line_bytes = 512;
    // Dovecot CLIENT_MAX_BAD_COMMANDS; past it: -ERR and close.
    unsigned max_bad_commands = 20;
    // RFC 1939 §3: the inactivity autologout timer must be at least 10 minutes.
    std::chrono::seconds idle_timeout{600};
    // One read from a message file on the pool: big enough to keep the pool
    // round trips rare, small enough that a 50 MB RETR never holds more than
    // a few of these in memory (plus the connection's write watermark).
    std::size_t retr_chunk_bytes = 64u << 10;
    // After a RETR, the following messages are read in the same pool job
    // while their sizes fit in this (pop3_transfer.h read_ahead()): a client
    // downloading a maildrop in order then costs a pool round trip per few
    // messages, not per message. It is what a downloading connection holds
    // between commands; half a chunk keeps that below a transfer's own peak.
    std::size_t retr_read_ahead_bytes = 32u << 10;
    // RFC 1939 keywords are 3-4 characters; a user name past this is not a
    // real account (storage addresses are far shorter).
    std::size_t max_user_bytes = 320;
};

// libuv pool threads (pop3d/main.cpp says why not libuv's default 4): one
// per session that may be in a disk-bound job at once, as many as smtpd.
inline constexpr const char* kPoolThreads = "16";

// A message number (RFC 1939 §3 "msg") has at most this many digits: 10
// digits already exceed 32 bits, and no maildrop holds that many messages.
inline constexpr std::size_t kMaxMessageNumberDigits = 9;

}  // namespace postern::pop3
