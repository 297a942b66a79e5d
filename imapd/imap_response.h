// Response building (RFC 9051 §7): strings, flag lists, dates, mailbox
// names, and the one mapping from StoreError to IMAP response codes
// (STYLE.md §11). Pure functions; the session writes what they return.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "imapd/imap_parser.h"
#include "storage/maildir.h"
#include "storage/store_error.h"

namespace postern::imap {

// string: quoted when possible, else a literal (RFC 9051 §4.3).
std::string imap_string(std::string_view s);
// astring for names the client will parse back: atom when safe, else string.
std::string imap_astring(std::string_view s);
// Mailbox names travel as modified UTF-7 (IMAP4rev1) or, once the client
// has enabled IMAP4rev2 or UTF8=ACCEPT, as UTF-8 (RFC 9051 §5.1, RFC 6855 §3).
enum class NameEncoding { ModifiedUtf7, Utf8 };
// Mailbox name on the wire: UTF-8 -> (modified UTF-7) -> astring/quoted.
std::string wire_mailbox(std::string_view utf8_name, NameEncoding encoding);
// A mailbox argument from the client -> UTF-8 name; nullopt if invalid
// (bad modified UTF-7, or invalid UTF-8 in UTF-8 mode).
std::optional<std::string> mailbox_arg(const Arg& arg, NameEncoding encoding);
// A LIST pattern: decoded like a name, but wildcards kept; on a decoding
// failure the pattern is used as written (it then matches nothing odd).
std::string list_pattern_arg(std::string_view pattern, NameEncoding encoding);

// "(\Seen \Deleted)"; $Forwarded is the Maildir 'P' flag.
std::string flag_list(store::Flags flags);
// One flag name -> bit; nullopt for unknown keywords (we store none) and
// for \Recent (not settable, RFC 9051 §2.3.2).
std::optional<store::Flags> flag_from_name(std::string_view name);
// A flag argument: "(\Seen foo)" or a single flag. Unknown keywords are
// ignored (PERMANENTFLAGS has no \*). false on a malformed argument.
bool parse_flags(const Arg& arg, store::Flags& out);

// date-time: "25-Nov-2026 06:55:19 +0000" with quotes (RFC 9051 §9).
std::string internal_date(std::int64_t epoch_seconds);
// Parses date-time (APPEND) or date ("1-Feb-2024", SEARCH). Returns epoch
// seconds (for date: midnight UTC of that day).
std::optional<std::int64_t> parse_date_time(std::string_view s);
std::optional<std::int64_t> parse_date(std::string_view s);

// The client-facing form of a storage failure: "NO [CODE] text".
// Temp/Perm details go to the log, never here.
std::string store_failure_reply(const store::Failure& failure);

}  // namespace postern::imap
