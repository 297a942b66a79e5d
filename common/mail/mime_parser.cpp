// MIME tree construction. See mime_parser.h for the contract.
#include "common/mail/mime_parser.h"

#include <algorithm>
#include <cstring>

#include "common/base/ascii.h"

namespace postern::mail {

namespace {

// Hard ceiling on MimeLimits::max_depth whatever the caller asks: it bounds
// the recursion of parse_part() and of every tree walk downstream.
constexpr std::size_t kMaxDepthCeiling = 256;

struct Context {
    std::string_view message;
    MimeLimits limits;
    std::size_t parts = 0;
    bool limited = false;
};

struct Frame {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t depth = 0;
    bool is_mime = false;
    bool in_digest = false;  // RFC 2046 §5.1.5: default type message/rfc822
};

struct Counts {
    std::size_t size_crlf = 0;
    std::size_t lines = 0;
};

Counts count_bytes(std::string_view s) {
    Counts c{s.size(), 0};
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
        if (hit == nullptr) break;
        const char* lf = static_cast<const char*>(hit);
        ++c.lines;
        if (lf == s.data() || lf[-1] != '\r') ++c.size_crlf;
        p = lf + 1;
    }
    return c;
}

std::optional<std::string> param(const std::vector<Parameter>& params, std::string_view name) {
    for (const Parameter& p : params) {
        if (p.name == name) return p.value;
    }
    return std::nullopt;
}

// Applies the Content-* fields, first occurrence of each winning (Dovecot).
void apply_field(MimePart& part, const HeaderField& field, bool& have_type) {
    std::string_view n = field.name;
    if (!istarts_with(n, "content-")) return;
    n.remove_prefix(8);
    std::string value = unfold(field.raw_value);
    if (iequals(n, "type") && !have_type) {
        have_type = true;
        if (auto ct = parse_content_type(value)) {
            part.type = std::move(ct->type);
            part.subtype = std::move(ct->subtype);
            part.params = std::move(ct->params);
        }
    } else if (iequals(n, "transfer-encoding") && !part.encoding) {
        part.encoding = parse_transfer_encoding(value);
    } else if (iequals(n, "id") && !part.id) {
        part.id = std::move(value);
    } else if (iequals(n, "description") && !part.description) {
        part.description = std::move(value);
    } else if (iequals(n, "md5") && !part.md5) {
        part.md5 = std::move(value);
    } else if (iequals(n, "location") && !part.location) {
        part.location = std::move(value);
    } else if (iequals(n, "language") && part.language.empty()) {
        part.language = parse_content_language(value);
    } else if (iequals(n, "disposition") && !part.disposition) {
        if (auto cd = parse_content_disposition(value)) {
            part.disposition = std::move(cd->disposition);
            part.disposition_params = std::move(cd->params);
        }
    }
}

void read_header(Context& ctx, const Frame& f, MimePart& part) {
    std::string_view text = ctx.message.substr(f.begin, f.end - f.begin);
    HeaderBlock block = parse_header_block(text);
    part.header_offset = f.begin;
    part.body_offset = f.begin + block.size;
    part.end = f.end;
    part.header = std::move(block.fields);
    bool is_mime = f.is_mime || !ctx.limits.require_mime_version;
    for (HeaderField& field : part.header) {
        field.offset += f.begin;
        if (iequals(field.name, "mime-version")) is_mime = true;
    }
    if (f.in_digest) {
        part.type = "message";
        part.subtype = "rfc822";
    }
    if (!is_mime) return;
    bool have_type = false;
    for (const HeaderField& field : part.header)
        apply_field(part, field, have_type);
}

struct BoundaryLine {
    bool found = false;
    bool close = false;
    std::size_t delimiter_start = 0;  // where the preceding part ends
    std::size_t next = 0;             // first byte after the boundary line
};

// Finds the next "--boundary" line at or after `pos` within [.., end).
// dash-boundary := "--" boundary; trailing transport padding (LWSP) is
// allowed (RFC 2046 §5.1.1), and so is "--" for the close delimiter.
BoundaryLine next_boundary(std::string_view msg, std::size_t pos, std::size_t end,
                           std::size_t part_start, std::string_view boundary) {
    while (pos < end) {
        std::size_t lf = msg.substr(0, end).find('\n', pos);
        std::size_t line_end = (lf == std::string_view::npos || lf >= end) ? end : lf;
        std::size_t next = line_end < end ? line_end + 1 : end;
        std::string_view line = msg.substr(pos, line_end - pos);
        if (line.size() >= 2 + boundary.size() && line[0] == '-' && line[1] == '-' &&
            line.substr(2, boundary.size()) == boundary) {
            std::string_view rest = line.substr(2 + boundary.size());
            bool close = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
            if (close) rest.remove_prefix(2);
            bool padding_only = std::all_of(rest.begin(), rest.end(), [](char c) {
                return c == ' ' || c == '\t' || c == '\r';
            });
            if (padding_only) {
                std::size_t d = pos;
                // The line break before the delimiter belongs to it (§5.1.1).
                if (d > part_start && msg[d - 1] == '\n') --d;
                if (d > part_start && msg[d - 1] == '\r') --d;
                return {true, close, d, next};
            }
        }
        pos = next;
    }
    return {};
}

MimePart parse_part(Context& ctx, const Frame& f);

void parse_multipart(Context& ctx, const Frame& f, MimePart& part, std::string_view boundary) {
    bool digest = iequals(part.subtype, "digest");
    BoundaryLine b =
        next_boundary(ctx.message, part.body_offset, f.end, part.body_offset, boundary);
    while (b.found && !b.close) {
        std::size_t start = b.next;
        if (ctx.parts >= ctx.limits.max_parts) {
            ctx.limited = true;
            b = BoundaryLine{};
        } else {
            b = next_boundary(ctx.message, start, f.end, start, boundary);
        }
        std::size_t child_end = b.found ? b.delimiter_start : f.end;  // missing close: to the end
        ++ctx.parts;
        part.children.push_back(parse_part(ctx, {start, child_end, f.depth + 1, true, digest}));
    }
}

MimePart parse_part(Context& ctx, const Frame& f) {
    MimePart part;
    read_header(ctx, f, part);
    bool multipart = iequals(part.type, "multipart");
    auto boundary = param(part.params, "boundary");
    if (multipart && (!boundary || boundary->empty())) {
        // RFC 2046 §5.1.1 makes "boundary" mandatory, so the field is
        // invalid and RFC 2045 §5.2's default applies: text/plain,
        // us-ascii. Rendering it as a leaf typed "multipart" would make
        // clients look for children that are not there.
        multipart = false;
        part.type = "text";
        part.subtype = "plain";
        part.params.clear();
    }
    bool message = iequals(part.type, "message") && iequals(part.subtype, "rfc822");
    bool container = (multipart && boundary && !boundary->empty()) || message;
    if (container && f.depth >= ctx.limits.max_depth) {
        // Too deep: an opaque text/plain leaf, so that every consumer's walk
        // stays bounded and the output stays valid IMAP.
        ctx.limited = true;
        part.truncated = true;
        part.type = "text";
        part.subtype = "plain";
        part.params.clear();
        container = false;
    }
    Counts header = count_bytes(ctx.message.substr(part.header_offset, part.header_size()));
    Counts body = count_bytes(ctx.message.substr(part.body_offset, part.body_size()));
    part.header_size_crlf = header.size_crlf;
    part.body_size_crlf = body.size_crlf;
    part.body_lines = body.lines;
    if (!container) return part;
    if (message) {
        part.kind = PartKind::Message;
        ++ctx.parts;
        part.children.push_back(
            parse_part(ctx, {part.body_offset, f.end, f.depth + 1, true, false}));
    } else {
        part.kind = PartKind::Multipart;
        parse_multipart(ctx, f, part, *boundary);
    }
    return part;
}

}  // namespace

bool MimePart::is_text() const {
    return kind == PartKind::Leaf && iequals(type, "text");
}

MimeTree parse_mime(std::string_view message, const MimeLimits& limits) {
    Context ctx{message, limits, 1, false};
    ctx.limits.max_depth = std::min(ctx.limits.max_depth, kMaxDepthCeiling);
    MimeTree tree;
    tree.root = parse_part(ctx, {0, message.size(), 0, false, false});
    tree.part_count = ctx.parts;
    tree.limited = ctx.limited;
    return tree;
}

}  // namespace postern::mail
