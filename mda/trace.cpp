#include "mda/trace.h"

#include "common/base/ascii.h"
#include "common/mail/header_parser.h"

namespace postern::mda {
namespace {

// An address as a Delivered-To value carries it: unfolded, trimmed, without
// angle brackets, lowercased.
std::string normalize_address(std::string_view value) {
    std::string_view v = trim(value);
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = trim(v.substr(1, v.size() - 2));
    return ascii_lowercase(v);
}

// Field values must stay on one line whatever the envelope holds.
std::string field_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    return out;
}

}  // namespace

TraceScan scan_trace(std::string_view message) {
    TraceScan scan;
    std::size_t lf = message.find('\n');
    if (lf != std::string_view::npos && (lf == 0 || message[lf - 1] != '\r')) scan.newline = "\n";
    mail::HeaderBlock header = mail::parse_header_block(message);
    for (const auto& field : header.fields) {
        if (iequals(field.name, "Received")) {
            ++scan.received;
        } else if (iequals(field.name, "Delivered-To")) {
            scan.delivered_to.push_back(normalize_address(mail::unfold(field.raw_value)));
        }
    }
    return scan;
}

std::string trace_fields(std::string_view sender, std::string_view recipient,
                         std::string_view newline) {
    std::string out;
    out.reserve(sender.size() + recipient.size() + 40);
    out.append("Return-Path: <").append(field_safe(sender)).append(">").append(newline);
    out.append("Delivered-To: ").append(field_safe(recipient)).append(newline);
    return out;
}

bool has_delivered_to(const TraceScan& scan, std::string_view address) {
    std::string want = normalize_address(address);
    for (const auto& d : scan.delivered_to) {
        if (d == want) return true;
    }
    return false;
}

bool too_many_received(const TraceScan& scan, std::size_t max_received) {
    return scan.received > max_received;
}

std::string_view strip_mbox_from_line(std::string_view message) {
    if (!message.starts_with("From ")) return message;
    std::size_t lf = message.find('\n');
    if (lf == std::string_view::npos) return message;
    return message.substr(lf + 1);
}

}  // namespace postern::mda
