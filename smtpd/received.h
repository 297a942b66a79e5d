// The trace fields the server adds to a message: Received (RFC 5321 §4.4)
// and, for submission, the Message-ID and Date a client left out
// (RFC 6409 §8.2, §8.3). Pure formatting; every output ends in CRLF and is
// folded below 78 columns where it can be.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace postern::smtp {

struct ReceivedInfo {
    std::string helo;       // as the client gave it; sanitised here
    std::string client_ip;  // "192.0.2.7" / "IPv6:2001:db8::1"; ignored when hide_client
    bool hide_client = false;
    std::string by_host;  // our hostname
    std::string program;  // "smtpd" / "submissiond"
    bool esmtp = true;    // EHLO (not HELO)
    bool tls = false;
    bool authenticated = false;
    bool smtputf8 = false;
    std::string tls_description;  // "TLSv1.3 TLS_AES_256_GCM_SHA384", when tls
    std::string id;               // our transaction id
    std::string for_recipient;    // only with exactly one recipient (privacy)
    std::time_t when = 0;
};

// The "with" protocol keyword: SMTP, ESMTP[S][A] (RFC 3848), UTF8SMTP[S][A]
// (RFC 6531 §3.7.3).
std::string with_protocol(const ReceivedInfo& info);
std::string format_received(const ReceivedInfo& info);
// RFC 5322 §3.3 date-time in UTC: "Wed, 25 Nov 2026 07:00:00 +0000".
std::string rfc5322_date(std::time_t when);
// "<random.timestamp@host>" (RFC 5322 §3.6.4).
std::string make_message_id(std::string_view host, std::time_t when);

}  // namespace postern::smtp
