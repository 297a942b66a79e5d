// Relay policy: which recipients this server takes, and which senders an
// authenticated user may use. The MX never relays: a recipient is accepted
// only when its domain is one of ours and the address resolves to a user,
// an alias or a catch-all there.
//
// Two layers:
// - relay_spelling(): pure, on the parsed path. Spellings that route mail
//   elsewhere on some software (percent hack "a%b@us", bang paths "b!a@us",
//   "@" inside a quoted local part, address literals "a@[192.0.2.1]") are
//   refused outright (RFC 2505 §2.5.1), whatever the domain. A source route
//   is dropped by the parser and only the final mailbox counts (RFC 5321
//   §4.1.1.3, §3.6.1).
// - lookup_recipient() / check_sender(): blocking SQLite reads of
//   directory.db; run them on the pool (loop::submit_work).
#pragma once

#include <string>
#include <string_view>

#include "common/smtp/smtp_address.h"
#include "storage/directory.h"

namespace postern::smtp {

// True when the path is spelt in a way we never accept as a recipient.
bool relay_spelling(const Path& path);

enum class RecipientKind {
    Local,    // a user, alias or catch-all of a local domain
    Unknown,  // local domain, no such address: 550 5.1.1
    Remote,   // not one of our domains
    Temp,     // the directory could not be read: 451 4.3.0
};

struct RecipientVerdict {
    RecipientKind kind = RecipientKind::Temp;
    std::string address;  // the address to hand to mda ("local@domain")
    std::string detail;   // for the log on Temp
};

// <Postmaster> (RFC 5321 §4.1.1.3) resolves to postmaster@ the first local
// domain. Plus-addressing: "alice+tag@d" is tried as "alice@d" when
// `delimiter` is set and the full address is not known.
RecipientVerdict lookup_recipient(store::Directory& dir, const Path& path,
                                  std::string_view delimiter);

enum class SenderVerdict { Owned, NotOwned, Temp };

// The sender is owned by `user` (canonical "local@domain") when it is the
// user's address (plus-addressed or not, case-insensitive local part) or an
// alias whose targets include the user.
SenderVerdict check_sender(store::Directory& dir, std::string_view user, const Path& sender,
                           std::string_view delimiter);

// "alice+tag" -> "alice" for delimiter "+"; unchanged without one.
std::string strip_detail(std::string_view local, std::string_view delimiter);

}  // namespace postern::smtp
