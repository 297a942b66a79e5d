// SmtpContext: what every session of one daemon shares, built once by the
// service at start-up (after the privilege drop) and outliving all sessions.
// Read-only for sessions, except the PeerTracker and the AuthCache, which
// are designed to be shared.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/net/peer_tracker.h"
#include "common/tls/tls_context.h"
#include "smtpd/smtp_limits.h"
#include "smtpd/smtp_profile.h"
#include "storage/login.h"

namespace postern::smtp {

struct SmtpContext {
    SmtpProfile profile;
    SmtpLimits limits;
    std::string hostname;                    // greeting, EHLO, Received
    std::filesystem::path directory_db;      // recipient and login lookups
    std::filesystem::path lmtp_socket;       // mda --lmtp
    std::filesystem::path spool_dir;         // where big messages spill
    std::filesystem::path queue_dir;         // the outbound queue (submission only)
    std::string recipient_delimiter;         // plus-addressing, e.g. "+"
    const tls::TlsContext* tls = nullptr;    // STARTTLS; null: not offered
    net::PeerTracker* tracker = nullptr;     // failed-AUTH throttling
    store::AuthCache* auth_cache = nullptr;  // null: every login runs Argon2id
    bool allow_plaintext_auth_on_loopback = false;
    // How long a blocking LMTP exchange may wait for mda (RFC 5321
    // §4.5.3.2.6: 10 minutes for the reply after DATA).
    std::chrono::seconds lmtp_timeout{600};
};

}  // namespace postern::smtp
