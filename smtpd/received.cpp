#include "smtpd/received.h"

#include <sodium.h>

#include <cstdio>

namespace postern::smtp {
namespace {

// A HELO name is client input: keep what a domain or address literal uses,
// so the field cannot be broken by parentheses, CR/LF or semicolons.
std::string sanitize_helo(std::string_view helo) {
    constexpr std::size_t kMaxHeloBytes = 255;  // RFC 5321 §4.5.3.1.2 domain limit
    std::string out;
    for (char c : helo.substr(0, kMaxHeloBytes)) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
        out += ok ? c : '?';
    }
    return out.empty() ? "unknown" : out;
}

}  // namespace

std::string with_protocol(const ReceivedInfo& info) {
    if (!info.esmtp) return "SMTP";
    std::string out = info.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (info.tls) out += 'S';
    if (info.authenticated) out += 'A';
    return out;
}

std::string format_received(const ReceivedInfo& info) {
    std::string out = "Received: ";
    if (!info.hide_client) {
        out += "from " + sanitize_helo(info.helo) + " ([" + info.client_ip + "])\r\n\t";
    }
    out += "by " + info.by_host + " (Postern " + info.program + ") with " + with_protocol(info);
    out += " id " + info.id;
    if (info.tls && !info.tls_description.empty()) {
        out += "\r\n\t(using " + info.tls_description + ")";
    }
    if (!info.for_recipient.empty()) out += "\r\n\tfor <" + info.for_recipient + ">";
    out += ";\r\n\t" + rfc5322_date(info.when) + "\r\n";
    return out;
}

std::string rfc5322_date(std::time_t when) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return std::string(buf, n);
}

std::string make_message_id(std::string_view host, std::time_t when) {
    unsigned char random[12];
    randombytes_buf(random, sizeof random);
    char hex[sizeof random * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, random, sizeof random);
    return "<" + std::to_string(static_cast<long long>(when)) + "." + hex + "@" +
           std::string(host) + ">";
}

}  // namespace postern::smtp
