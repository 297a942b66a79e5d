// Header block splitting and unfolding. See header_parser.h for the contract.
#include "common/mail/header_parser.h"

#include "common/base/ascii.h"

namespace postern::mail {

namespace {

struct Line {
    std::string_view content;  // without the line ending
    std::size_t next = 0;      // offset of the following line
};

Line line_at(std::string_view text, std::size_t pos) {
    std::size_t lf = text.find('\n', pos);
    std::size_t end = lf == std::string_view::npos ? text.size() : lf;
    std::size_t next = lf == std::string_view::npos ? text.size() : lf + 1;
    if (end > pos && lf != std::string_view::npos && text[end - 1] == '\r') --end;
    return {text.substr(pos, end - pos), next};
}

// field-name = 1*ftext; ftext = %d33-57 / %d59-126 (RFC 5322 §3.6.8). WSP
// before the colon is obsolete syntax (§4.5) and accepted.
std::optional<std::string_view> field_name(std::string_view line) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
        name.remove_suffix(1);
    if (name.empty()) return std::nullopt;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) return std::nullopt;
    }
    return name;
}

}  // namespace

HeaderBlock parse_header_block(std::string_view text) {
    HeaderBlock block;
    std::size_t pos = 0;
    HeaderField* current = nullptr;
    while (pos < text.size()) {
        Line line = line_at(text, pos);
        if (line.content.empty() && line.next > pos + line.content.size()) {
            block.has_separator = true;
            pos = line.next;
            break;
        }
        char first = line.content.empty() ? '\0' : line.content.front();
        if ((first == ' ' || first == '\t') && current != nullptr) {
            // Continuation: the field now ends at this line's end.
            std::size_t value_start =
                static_cast<std::size_t>(current->raw_value.data() - text.data());
            std::size_t line_end = pos + line.content.size();
            current->raw_value = text.substr(value_start, line_end - value_start);
        } else if (auto name = field_name(line.content)) {
            std::size_t colon = line.content.find(':');
            block.fields.push_back({*name, line.content.substr(colon + 1), pos});
            current = &block.fields.back();
        } else {
            current = nullptr;  // junk line: skipped, and so are its continuations
        }
        pos = line.next;
    }
    block.size = pos;
    return block;
}

const HeaderField* find_field(const HeaderBlock& block, std::string_view name) {
    for (const HeaderField& field : block.fields) {
        if (iequals(field.name, name)) return &field;
    }
    return nullptr;
}

std::string unfold(std::string_view raw_value) {
    std::size_t start = 0;
    while (start < raw_value.size() && (raw_value[start] == ' ' || raw_value[start] == '\t' ||
                                        raw_value[start] == '\r' || raw_value[start] == '\n')) {
        ++start;
    }
    std::string out;
    out.reserve(raw_value.size() - start);
    for (char c : raw_value.substr(start)) {
        if (c != '\r' && c != '\n') out += c;
    }
    return out;
}

}  // namespace postern::mail
