// IMAP ENVELOPE (RFC 3501 §7.4.2):
//   envelope = "(" env-date SP env-subject SP env-from SP env-sender SP
//              env-reply-to SP env-to SP env-cc SP env-bcc SP
//              env-in-reply-to SP env-message-id ")"
// Rendered as Dovecot's imap-envelope.c does: the last occurrence of a field
// wins; Date, In-Reply-To and Message-ID are strings as written; Subject and
// display names go through the "for humans" cleanup.
#include <array>
#include <optional>

#include "common/base/ascii.h"
#include "common/mail/imap_string.h"
#include "common/mail/message_summary.h"

namespace postern::mail {

namespace {

enum Field : std::size_t {
    Date,
    Subject,
    From,
    Sender,
    ReplyTo,
    To,
    Cc,
    Bcc,
    InReplyTo,
    MessageId,
    kFields
};

constexpr std::array<std::string_view, kFields> kFieldNames = {
    "date", "subject", "from", "sender",      "reply-to",
    "to",   "cc",      "bcc",  "in-reply-to", "message-id"};

void append_address_list(std::string& out, const std::vector<Address>& list) {
    if (list.empty()) {
        out += "NIL";
        return;
    }
    out += '(';
    for (const Address& a : list) {
        out += '(';
        // An empty phrase ("" <a@b>) is NIL as in Dovecot, so that clients
        // fall back to the address instead of showing an empty sender.
        if (a.name && !a.name->empty()) {
            append_imap_string_for_humans(out, *a.name);
        } else {
            out += "NIL";
        }
        out += ' ';
        append_imap_nstring(out, a.route);
        out += ' ';
        append_imap_nstring(out, a.mailbox);
        out += ' ';
        append_imap_nstring(out, a.host);
        out += ')';
    }
    out += ')';
}

}  // namespace

std::string render_envelope(const std::vector<HeaderField>& header) {
    std::array<std::optional<std::string>, kFields> values;
    for (const HeaderField& field : header) {
        for (std::size_t i = 0; i < kFields; ++i) {
            if (iequals(field.name, kFieldNames[i])) values[i] = unfold(field.raw_value);
        }
    }
    std::array<std::vector<Address>, kFields> addresses;
    for (std::size_t i = From; i <= Bcc; ++i) {
        if (values[i]) addresses[i] = parse_address_list(*values[i]);
    }
    // RFC 3501: absent or empty Sender / Reply-To take the value of From.
    if (addresses[Sender].empty()) addresses[Sender] = addresses[From];
    if (addresses[ReplyTo].empty()) addresses[ReplyTo] = addresses[From];

    std::string out = "(";
    append_imap_nstring(out, values[Date]);
    out += ' ';
    if (values[Subject]) {
        append_imap_string_for_humans(out, *values[Subject]);
    } else {
        out += "NIL";
    }
    for (std::size_t i = From; i <= Bcc; ++i) {
        out += ' ';
        append_address_list(out, addresses[i]);
    }
    out += ' ';
    append_imap_nstring(out, values[InReplyTo]);
    out += ' ';
    append_imap_nstring(out, values[MessageId]);
    out += ')';
    return out;
}

}  // namespace postern::mail
