// FETCH item parsing and rendering (RFC 9051 §6.4.5, §7.5.2, BINARY RFC
// 3516), split from the command so that it can be tested without a session.
//
// Rendering works from the index's summary (ENVELOPE, BODY, BODYSTRUCTURE,
// section offsets: common/mail/message_summary.h) and reads the message file
// only for body sections. Offsets in the summary are physical bytes; bare LF
// in a stored file is served as CRLF, and <partial> ranges count the CRLF
// form, as RFC822.SIZE does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mail/message_summary.h"
#include "imapd/imap_parser.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

struct BodySection {
    std::string part;  // "" or "1.2"
    enum class Text { Full, Header, HeaderFields, HeaderFieldsNot, Text, Mime };
    Text text = Text::Full;
    std::vector<std::string> fields;  // upper case
    bool peek = false;
    bool partial = false;
    std::uint64_t offset = 0;
    std::uint64_t count = 0;
    std::string label;  // "BODY[HEADER.FIELDS (FROM)]" as we echo it
};

struct FetchItem {
    enum class Kind {
        Flags,
        Uid,
        InternalDate,
        Size,
        Envelope,
        Body,
        BodyStructure,
        Section,
        Rfc822,
        Rfc822Header,
        Rfc822Text,
        Binary,     // BINARY[part]<partial> / BINARY.PEEK (RFC 3516)
        BinarySize  // BINARY.SIZE[part]
    };
    Kind kind = Kind::Flags;
    BodySection section;
};

struct FetchRequest {
    std::vector<FetchItem> items;
    bool needs_summary = false;
    bool needs_file = false;
    // With needs_file: true when every item that reads the file reads only
    // the top-level header (BODY[HEADER], BODY[HEADER.FIELDS (...)],
    // .NOT, RFC822.HEADER), the message-list fetch of every mail client.
    bool header_only = true;
    bool sets_seen = false;
};

// The fetch-att argument (atom, macro or list). nullopt: BAD.
std::optional<FetchRequest> parse_fetch_items(const Arg& arg, bool uid_command);

// One message's "* n FETCH (...)" line (with literals), CRLF included.
// `summary` may be null when not needed; `file` empty when not needed.
// `unknown_cte` (if given) is set when a BINARY item met a
// Content-Transfer-Encoding we cannot decode; the item is then NIL and the
// command must end in NO [UNKNOWN-CTE] (RFC 3516 §4.3).
std::string render_fetch(std::uint32_t seq, const store::MessageInfo& message,
                         const FetchRequest& request, const mail::MessageSummary* summary,
                         std::string_view file, bool flags_changed, bool* unknown_cte = nullptr);

// BINARY[part]: the part's content with its transfer encoding undone
// (<partial> applied); the whole message for part "". nullopt: no such part;
// *unknown_cte set (and nullopt) for an encoding we cannot decode.
std::optional<std::string> binary_bytes(const BodySection& section,
                                        const mail::MessageSummary& summary, std::string_view file,
                                        bool& unknown_cte);

// Bytes of a section, with bare LF served as CRLF and <partial> applied;
// nullopt if the section does not exist.
std::optional<std::string> section_bytes(const BodySection& section,
                                         const mail::MessageSummary& summary,
                                         std::string_view file);

// LF not preceded by CR becomes CRLF.
std::string to_crlf(std::string_view bytes);

}  // namespace postern::imap
