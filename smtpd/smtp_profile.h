// SmtpProfile: everything the inbound MX (smtpd) and the message submission
// daemon (submissiond) do differently, as data (STYLE.md §3). The session
// engine reads these fields; it never asks "am I submission?".
#pragma once

#include <string>

namespace postern::smtp {

struct SmtpProfile {
    std::string name;                // "smtpd" / "submissiond": Received field and logs
    bool offers_auth = false;        // AUTH PLAIN LOGIN is advertised and accepted
    bool auth_required = false;      // MAIL before AUTH -> 530 5.7.0 (RFC 4954 §6)
    bool auth_requires_tls = false;  // plaintext AUTH -> 538 5.7.11 (RFC 4954 §4)
    // Local recipients only unless authenticated; MX never relays. Remote
    // recipients of an authenticated user go to the outbound queue.
    bool relay_for_authenticated = false;
    // The envelope sender must be an address the authenticated user owns.
    bool sender_must_be_owned = false;
    bool add_missing_message_id = false;  // and Date (RFC 6409 §8.2, §8.3)
    bool hide_client_ip = false;          // in the Received field we add
};

// Port 25: anyone may send, to local recipients only.
inline SmtpProfile mx_profile() {
    return SmtpProfile{.name = "smtpd"};
}

// Ports 587 and 465 (RFC 6409, RFC 8314): authenticated users only.
inline SmtpProfile submission_profile(bool hide_client_ip) {
    return SmtpProfile{.name = "submissiond",
                       .offers_auth = true,
                       .auth_required = true,
                       .auth_requires_tls = true,
                       .relay_for_authenticated = true,
                       .sender_must_be_owned = true,
                       .add_missing_message_id = true,
                       .hide_client_ip = hide_client_ip};
}

}  // namespace postern::smtp
