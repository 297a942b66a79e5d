// Summary construction and the section map. See message_summary.h.
#include "common/mail/message_summary.h"

#include "common/base/ascii.h"

namespace postern::mail {

namespace {

std::string child_section(const std::string& prefix, std::size_t index) {
    std::string n = std::to_string(index);
    return prefix.empty() ? n : prefix + "." + n;
}

SectionInfo section_of(const MimePart& part, std::string section) {
    SectionInfo s;
    s.section = std::move(section);
    s.header_offset = part.header_offset;
    s.header_size = part.header_size();
    s.header_size_crlf = part.header_size_crlf;
    s.body_offset = part.body_offset;
    s.body_size = part.body_size();
    s.body_size_crlf = part.body_size_crlf;
    s.body_lines = part.body_lines;
    if (part.encoding) s.encoding = ascii_lowercase(*part.encoding);
    s.multipart = part.kind == PartKind::Multipart;
    if (part.kind == PartKind::Message && !part.children.empty()) {
        const MimePart& inner = part.children.front();
        s.message = true;
        s.inner_header_size = inner.header_size();
        s.inner_header_size_crlf = inner.header_size_crlf;
    }
    return s;
}

void add_sections(const MimePart& part, const std::string& prefix, std::vector<SectionInfo>& out);

// RFC 3501 §6.4.5: the parts of a message are numbered from 1; a message
// that is not multipart has one part, its body. `message` is a top-level or
// encapsulated message whose parts are numbered under `prefix`.
void add_message_sections(const MimePart& message, const std::string& prefix,
                          std::vector<SectionInfo>& out) {
    if (message.kind == PartKind::Multipart) {
        add_sections(message, prefix, out);
        return;
    }
    std::string one = child_section(prefix, 1);
    out.push_back(section_of(message, one));
    if (message.kind == PartKind::Message) add_sections(message, one, out);
}

// Children of `part` (a multipart, or a message/rfc822 part).
void add_sections(const MimePart& part, const std::string& prefix, std::vector<SectionInfo>& out) {
    if (part.kind == PartKind::Message) {
        if (!part.children.empty()) add_message_sections(part.children.front(), prefix, out);
        return;
    }
    for (std::size_t i = 0; i < part.children.size(); ++i) {
        std::string section = child_section(prefix, i + 1);
        out.push_back(section_of(part.children[i], section));
        add_sections(part.children[i], section, out);
    }
}

}  // namespace

MessageSummary summarize(std::string_view message, const MimeLimits& limits) {
    MimeTree tree = parse_mime(message, limits);
    MessageSummary s;
    s.envelope = render_envelope(tree.root.header);
    s.bodystructure = render_body_structure(tree.root, true);
    s.body = render_body_structure(tree.root, false);
    s.size = message.size();
    s.size_crlf = tree.root.header_size_crlf + tree.root.body_size_crlf;
    s.lines = 0;
    for (char c : message)
        s.lines += c == '\n' ? 1 : 0;
    s.limited = tree.limited;
    SectionInfo whole = section_of(tree.root, "");
    whole.message = false;  // HEADER and TEXT of "" are the header and body ranges
    s.sections.push_back(std::move(whole));
    add_message_sections(tree.root, "", s.sections);
    return s;
}

const SectionInfo* find_section(const MessageSummary& summary, std::string_view section) {
    for (const SectionInfo& s : summary.sections) {
        if (s.section == section) return &s;
    }
    return nullptr;
}

}  // namespace postern::mail
