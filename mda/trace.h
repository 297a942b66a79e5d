// Trace fields and mail-loop detection (RFC 5321 §4.4, RFC 5322 §3.6.7).
//
// mda adds exactly two fields at the top of each stored message and changes
// nothing else:
//   Return-Path: <sender>          (RFC 5321 §4.4: added by final delivery)
//   Delivered-To: <rcpt address>   (Postfix/Dovecot convention, used below)
// written with the line ending the message itself uses (first line end: CRLF
// or bare LF), so the stored file stays consistent.
//
// A message is a loop when its header already carries a Delivered-To equal
// (ASCII case-insensitively) to an address we are about to deliver to, or
// when it has more than max_received Received fields (RFC 5321 §6.3 asks for
// a limit; 100 is the value it suggests). Only the header block is scanned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mda {

struct TraceScan {
    std::size_t received = 0;
    std::vector<std::string> delivered_to;  // addresses, lowercased, without <>
    std::string_view newline = "\r\n";      // the message's own line ending (a static literal)
};

TraceScan scan_trace(std::string_view message);

// The text to prepend. `sender` is the reverse path without brackets ("" for
// the null sender); control bytes are replaced so no field can be injected.
std::string trace_fields(std::string_view sender, std::string_view recipient,
                         std::string_view newline);

bool has_delivered_to(const TraceScan& scan, std::string_view address);
bool too_many_received(const TraceScan& scan, std::size_t max_received);

// Pipe mode: an mbox "From sender date" envelope line at the very start is
// not part of the RFC 5322 message (some MTAs prepend it); returns the
// message without it. Anything else is returned unchanged.
std::string_view strip_mbox_from_line(std::string_view message);

}  // namespace postern::mda
