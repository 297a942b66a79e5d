// IMAP BODY / BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2), rendered as
// Dovecot's imap-bodystructure.c does:
//   body-type-1part = (type subtype (params) id description encoding size
//                      [lines | envelope body lines]) then, extended only,
//                     md5 disposition language location
//   body-type-mpart = parts... SP subtype then, extended only,
//                     (params) disposition language location
// Parts of a multipart follow each other with no space between them.
#include "common/mail/imap_string.h"
#include "common/mail/message_summary.h"

#include "common/base/ascii.h"

namespace postern::mail {

namespace {

// RFC 2045 §5.2 default charset, added to text parts that lack one.
constexpr std::string_view kDefaultCharset = "us-ascii";

// A multipart with no parts is not allowed in IMAP: Dovecot writes one empty
// text/plain part instead.
constexpr std::string_view kEmptyBody =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))";
constexpr std::string_view kEmptyBodyStructure =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))";

void append_params(std::string& out, const std::vector<Parameter>& params, bool default_charset) {
    if (params.empty() && !default_charset) {
        out += "NIL";
        return;
    }
    out += '(';
    bool seen_charset = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i > 0) out += ' ';
        if (params[i].name == "charset") seen_charset = true;
        append_imap_string(out, params[i].name);
        out += ' ';
        append_imap_string(out, params[i].value);
    }
    if (default_charset && !seen_charset) {
        if (!params.empty()) out += ' ';
        out += "\"charset\" \"";
        out += kDefaultCharset;
        out += '"';
    }
    out += ')';
}

// disposition language location: shared tail of both part kinds.
void append_common_extension(std::string& out, const MimePart& part) {
    out += ' ';
    if (!part.disposition) {
        out += "NIL";
    } else {
        out += '(';
        append_imap_string(out, *part.disposition);
        out += ' ';
        append_params(out, part.disposition_params, false);
        out += ')';
    }
    out += ' ';
    if (part.language.empty()) {
        out += "NIL";
    } else {
        out += '(';
        for (std::size_t i = 0; i < part.language.size(); ++i) {
            if (i > 0) out += ' ';
            append_imap_string(out, part.language[i]);
        }
        out += ')';
    }
    out += ' ';
    append_imap_nstring_nolf(out, part.location);
}

void append_part(std::string& out, const MimePart& part, bool extended);

void append_multipart(std::string& out, const MimePart& part, bool extended) {
    if (part.children.empty()) out += extended ? kEmptyBodyStructure : kEmptyBody;
    for (const MimePart& child : part.children)
        append_part(out, child, extended);
    out += ' ';
    append_imap_string(out, part.subtype);
    if (!extended) return;
    out += ' ';
    append_params(out, part.params, false);
    append_common_extension(out, part);
}

void append_single(std::string& out, const MimePart& part, bool extended) {
    bool text = part.is_text();
    if (part.kind == PartKind::Message) {
        out += "\"message\" \"rfc822\"";  // Dovecot writes it in this case
    } else {
        append_imap_string(out, part.type);
        out += ' ';
        append_imap_string(out, part.subtype);
    }
    out += ' ';
    append_params(out, part.params, text);
    out += ' ';
    append_imap_nstring_nolf(out, part.id);
    out += ' ';
    append_imap_nstring_nolf(out, part.description);
    out += ' ';
    append_imap_string(out, part.encoding ? std::string_view(*part.encoding) : "7bit");
    out += ' ';
    out += std::to_string(part.body_size_crlf);
    if (text) {
        out += ' ';
        out += std::to_string(part.body_lines);
    } else if (part.kind == PartKind::Message && !part.children.empty()) {
        const MimePart& inner = part.children.front();
        out += ' ';
        out += render_envelope(inner.header);
        out += ' ';
        append_part(out, inner, extended);
        out += ' ';
        out += std::to_string(part.body_lines);
    }
    if (!extended) return;
    out += ' ';
    append_imap_nstring_nolf(out, part.md5);
    append_common_extension(out, part);
}

void append_part(std::string& out, const MimePart& part, bool extended) {
    out += '(';
    if (part.kind == PartKind::Multipart) {
        append_multipart(out, part, extended);
    } else {
        append_single(out, part, extended);
    }
    out += ')';
}

}  // namespace

std::string render_body_structure(const MimePart& root, bool extended) {
    std::string out;
    append_part(out, root, extended);
    return out;
}

}  // namespace postern::mail
