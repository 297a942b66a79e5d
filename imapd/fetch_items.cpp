#include "imapd/fetch_items.h"

#include "common/base/ascii.h"
#include "imapd/content_decoding.h"
#include "imapd/imap_response.h"

namespace postern::imap {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return out;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

// header-list = "(" header-fld-name *(SP header-fld-name) ")"
bool parse_header_list(std::string_view s, std::vector<std::string>& out) {
    s = trim(s);
    if (s.size() < 2 || s.front() != '(' || s.back() != ')') return false;
    s = s.substr(1, s.size() - 2);
    std::size_t pos = 0;
    while (pos < s.size()) {
        if (s[pos] == ' ') {
            ++pos;
            continue;
        }
        std::size_t end = s.find(' ', pos);
        if (end == std::string_view::npos) end = s.size();
        std::string_view name = s.substr(pos, end - pos);
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
            name = name.substr(1, name.size() - 2);
        if (name.empty()) return false;
        out.push_back(upper(name));
        pos = end;
    }
    return !out.empty();
}

// section-spec = section-msgtext / (section-part ["." section-text])
bool parse_section_spec(std::string_view spec, BodySection& sec) {
    // section-part = nz-number *("." nz-number)
    std::size_t pos = 0;
    std::size_t part_end = 0;
    while (pos < spec.size() && spec[pos] >= '0' && spec[pos] <= '9') {
        if (spec[pos] == '0') return false;
        std::size_t start = pos;
        while (pos < spec.size() && spec[pos] >= '0' && spec[pos] <= '9')
            ++pos;
        if (pos - start > 9) return false;
        part_end = pos;
        if (pos == spec.size()) break;
        if (spec[pos] != '.') return false;
        ++pos;
    }
    sec.part = std::string(spec.substr(0, part_end));
    std::string_view text = spec;
    if (part_end > 0) {
        if (part_end == spec.size()) {
            text = {};
        } else {
            text = spec.substr(part_end + 1);
            if (text.empty()) return false;  // "1."
        }
    }
    std::string up = upper(text);
    if (up.empty()) {
        sec.text = BodySection::Text::Full;
    } else if (up == "HEADER") {
        sec.text = BodySection::Text::Header;
    } else if (up == "TEXT") {
        sec.text = BodySection::Text::Text;
    } else if (up == "MIME" && !sec.part.empty()) {
        sec.text = BodySection::Text::Mime;
    } else if (up.rfind("HEADER.FIELDS.NOT ", 0) == 0) {
        sec.text = BodySection::Text::HeaderFieldsNot;
        return parse_header_list(text.substr(18), sec.fields);
    } else if (up.rfind("HEADER.FIELDS ", 0) == 0) {
        sec.text = BodySection::Text::HeaderFields;
        return parse_header_list(text.substr(14), sec.fields);
    } else {
        return false;
    }
    return true;
}

std::string section_label(const BodySection& sec) {
    std::string spec = sec.part;
    auto add = [&spec](std::string_view t) {
        if (!spec.empty()) spec += '.';
        spec += t;
    };
    switch (sec.text) {
        case BodySection::Text::Full:
            break;
        case BodySection::Text::Header:
            add("HEADER");
            break;
        case BodySection::Text::Text:
            add("TEXT");
            break;
        case BodySection::Text::Mime:
            add("MIME");
            break;
        case BodySection::Text::HeaderFields:
        case BodySection::Text::HeaderFieldsNot: {
            add(sec.text == BodySection::Text::HeaderFields ? "HEADER.FIELDS ("
                                                            : "HEADER.FIELDS.NOT (");
            for (std::size_t i = 0; i < sec.fields.size(); ++i) {
                if (i > 0) spec += ' ';
                spec += sec.fields[i];
            }
            spec += ')';
            break;
        }
    }
    return "BODY[" + spec + "]";
}

// BODY[...]<o.n> / BODY.PEEK[...]<o.n>
bool parse_body_item(std::string_view atom, bool peek, FetchItem& item) {
    std::size_t open = atom.find('[');
    std::size_t close = atom.rfind(']');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return false;
    BodySection& sec = item.section;
    sec.peek = peek;
    if (!parse_section_spec(atom.substr(open + 1, close - open - 1), sec)) return false;
    std::string_view rest = atom.substr(close + 1);
    if (!rest.empty()) {
        std::size_t dot = rest.find('.');
        if (rest.front() != '<' || rest.back() != '>' || dot == std::string_view::npos)
            return false;
        if (!parse_u64(rest.substr(1, dot - 1), sec.offset) ||
            !parse_u64(rest.substr(dot + 1, rest.size() - dot - 2), sec.count) || sec.count == 0)
            return false;
        sec.partial = true;
    }
    sec.label = section_label(sec);
    item.kind = FetchItem::Kind::Section;
    return true;
}

// BINARY[part]<o.n> / BINARY.PEEK[part]<o.n> / BINARY.SIZE[part]
//   section-binary = "[" [section-part] "]"   (RFC 3516 §6)
bool parse_binary_item(std::string_view atom, std::string_view name, FetchItem& item) {
    std::size_t open = atom.find('[');
    std::size_t close = atom.find(']');
    if (close == std::string_view::npos || close < open) return false;
    BodySection& sec = item.section;
    std::string_view part = atom.substr(open + 1, close - open - 1);
    if (!part.empty()) {
        if (!parse_section_spec(part, sec) || sec.part != part) return false;
    }
    sec.text = BodySection::Text::Full;
    sec.peek = name != "BINARY";
    std::string_view rest = atom.substr(close + 1);
    if (!rest.empty()) {
        std::size_t dot = rest.find('.');
        if (name == "BINARY.SIZE" || rest.front() != '<' || rest.back() != '>' ||
            dot == std::string_view::npos)
            return false;
        if (!parse_u64(rest.substr(1, dot - 1), sec.offset) ||
            !parse_u64(rest.substr(dot + 1, rest.size() - dot - 2), sec.count) || sec.count == 0)
            return false;
        sec.partial = true;
    }
    sec.label = std::string(name == "BINARY.SIZE" ? "BINARY.SIZE[" : "BINARY[") + sec.part + "]";
    item.kind = name == "BINARY.SIZE" ? FetchItem::Kind::BinarySize : FetchItem::Kind::Binary;
    return true;
}

bool parse_one(const Arg& arg, FetchRequest& req) {
    if (!arg.is_atom()) return false;
    std::string name = upper(arg.text.substr(0, arg.text.find('[')));
    FetchItem item;
    using K = FetchItem::Kind;
    if (arg.text.find('[') != std::string::npos) {
        if (name == "BINARY" || name == "BINARY.PEEK" || name == "BINARY.SIZE") {
            if (!parse_binary_item(arg.text, name, item)) return false;
        } else if (name != "BODY" && name != "BODY.PEEK") {
            return false;
        } else if (!parse_body_item(arg.text, name == "BODY.PEEK", item)) {
            return false;
        }
    } else if (name == "FLAGS") {
        item.kind = K::Flags;
    } else if (name == "UID") {
        item.kind = K::Uid;
    } else if (name == "INTERNALDATE") {
        item.kind = K::InternalDate;
    } else if (name == "RFC822.SIZE") {
        item.kind = K::Size;
    } else if (name == "ENVELOPE") {
        item.kind = K::Envelope;
    } else if (name == "BODY") {
        item.kind = K::Body;
    } else if (name == "BODYSTRUCTURE") {
        item.kind = K::BodyStructure;
    } else if (name == "RFC822") {
        item.kind = K::Rfc822;
    } else if (name == "RFC822.HEADER") {
        item.kind = K::Rfc822Header;
    } else if (name == "RFC822.TEXT") {
        item.kind = K::Rfc822Text;
    } else {
        return false;
    }
    if (item.kind != K::Flags && item.kind != K::Uid && item.kind != K::InternalDate)
        req.needs_summary = true;
    if (item.kind == K::Section || item.kind == K::Rfc822 || item.kind == K::Rfc822Header ||
        item.kind == K::Rfc822Text || item.kind == K::Binary || item.kind == K::BinarySize) {
        req.needs_file = true;
        using T = BodySection::Text;
        const T text = item.section.text;
        const bool top_header =
            item.kind == K::Rfc822Header ||
            (item.kind == K::Section && item.section.part.empty() &&
             (text == T::Header || text == T::HeaderFields || text == T::HeaderFieldsNot));
        req.header_only = req.header_only && top_header;
    }
    if (((item.kind == K::Section || item.kind == K::Binary) && !item.section.peek) ||
        item.kind == K::Rfc822 || item.kind == K::Rfc822Text)
        req.sets_seen = true;
    req.items.push_back(std::move(item));
    return true;
}

std::string literal(std::string_view data) {
    std::string out = "{" + std::to_string(data.size()) + "}\r\n";
    out.append(data);
    return out;
}

// BINARY content with a NUL can only travel as literal8 (RFC 3516 §4.2).
std::string binary_literal(std::string_view data) {
    if (data.find('\0') == std::string_view::npos) return literal(data);
    return "~" + literal(data);
}

bool field_selected(std::string_view line, const BodySection& sec) {
    std::size_t colon = line.find(':');
    std::string name = upper(trim(line.substr(0, colon == std::string_view::npos ? 0 : colon)));
    bool listed = false;
    for (const std::string& f : sec.fields)
        listed = listed || f == name;
    return sec.text == BodySection::Text::HeaderFields ? listed : !listed;
}

// Keeps the fields (with their continuation lines) the section asks for,
// then the blank line that ends the header, if the message has one (RFC
// 9051 §6.4.5: a message without a body may end without it). A line
// without a field name (a stray continuation at the top, a line without a
// colon) names no listed field: HEADER.FIELDS.NOT keeps it.
std::string filter_header(std::string_view header, const BodySection& sec) {
    std::string out;
    bool keep = field_selected("", sec);
    bool blank_line = false;
    std::size_t pos = 0;
    while (pos < header.size()) {
        std::size_t end = header.find('\n', pos);
        end = end == std::string_view::npos ? header.size() : end + 1;
        std::string_view line = header.substr(pos, end - pos);
        pos = end;
        if (line == "\r\n" || line == "\n") {
            blank_line = true;
            break;
        }
        if (line[0] != ' ' && line[0] != '\t') keep = field_selected(line, sec);
        if (keep) out.append(line);
    }
    if (blank_line) out.append("\r\n");
    return out;
}

std::string_view slice(std::string_view file, std::size_t offset, std::size_t size) {
    if (offset > file.size()) return {};
    return file.substr(offset, size);
}

}  // namespace

std::string to_crlf(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 32);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) out += '\r';
        out += bytes[i];
    }
    return out;
}

std::optional<std::string> section_bytes(const BodySection& sec, const mail::MessageSummary& sum,
                                         std::string_view file) {
    const mail::SectionInfo* part = mail::find_section(sum, sec.part);
    if (part == nullptr) return std::nullopt;
    bool top = sec.part.empty();
    std::string_view raw;
    using T = BodySection::Text;
    switch (sec.text) {
        case T::Full:
            raw = top ? file : slice(file, part->body_offset, part->body_size);
            break;
        case T::Mime:
            raw = slice(file, part->header_offset, part->header_size);
            break;
        case T::Header:
        case T::HeaderFields:
        case T::HeaderFieldsNot:
            if (top) {
                raw = slice(file, part->header_offset, part->header_size);
            } else if (part->message) {
                raw = slice(file, part->body_offset, part->inner_header_size);
            } else {
                return std::nullopt;
            }
            break;
        case T::Text:
            if (top) {
                raw = slice(file, part->body_offset, part->body_size);
            } else if (part->message) {
                raw = slice(file, part->body_offset + part->inner_header_size,
                            part->body_size - part->inner_header_size);
            } else {
                return std::nullopt;
            }
            break;
    }
    std::string data = sec.text == T::HeaderFields || sec.text == T::HeaderFieldsNot
                           ? filter_header(to_crlf(raw), sec)
                           : to_crlf(raw);
    if (sec.partial) {
        if (sec.offset >= data.size()) return std::string();
        data =
            data.substr(static_cast<std::size_t>(sec.offset), static_cast<std::size_t>(sec.count));
    }
    return data;
}

std::optional<std::string> binary_bytes(const BodySection& sec, const mail::MessageSummary& sum,
                                        std::string_view file, bool& unknown_cte) {
    const mail::SectionInfo* part = mail::find_section(sum, sec.part);
    if (part == nullptr) return std::nullopt;
    std::string data;
    if (sec.part.empty() || part->multipart || part->message) {
        // Nothing to decode at this level: served as BODY[] would be.
        data = to_crlf(sec.part.empty() ? file : slice(file, part->body_offset, part->body_size));
    } else {
        std::string_view raw = slice(file, part->body_offset, part->body_size);
        auto decoded = decode_content(raw, part->encoding);
        if (!decoded) {
            unknown_cte = true;
            return std::nullopt;
        }
        // Text in 7bit/8bit is served with CRLF like BODY[]; decoded and
        // binary content is the octets as they are.
        bool identity = part->encoding == "7bit" || part->encoding == "8bit";
        data = identity ? to_crlf(*decoded) : std::move(*decoded);
    }
    if (sec.partial) {
        if (sec.offset >= data.size()) return std::string();
        data =
            data.substr(static_cast<std::size_t>(sec.offset), static_cast<std::size_t>(sec.count));
    }
    return data;
}

std::optional<FetchRequest> parse_fetch_items(const Arg& arg, bool uid_command) {
    FetchRequest req;
    using K = FetchItem::Kind;
    auto add = [&req](K kind) {
        FetchItem item;
        item.kind = kind;
        if (kind != K::Flags && kind != K::InternalDate) req.needs_summary = true;
        req.items.push_back(std::move(item));
    };
    if (arg.is("ALL") || arg.is("FAST") || arg.is("FULL")) {
        add(K::Flags);
        add(K::InternalDate);
        add(K::Size);
        if (!arg.is("FAST")) add(K::Envelope);
        if (arg.is("FULL")) add(K::Body);
    } else if (arg.is_list()) {
        if (arg.list.empty()) return std::nullopt;
        for (const Arg& a : arg.list)
            if (!parse_one(a, req)) return std::nullopt;
    } else if (!parse_one(arg, req)) {
        return std::nullopt;
    }
    if (uid_command) {
        bool has_uid = false;
        for (const FetchItem& i : req.items)
            has_uid = has_uid || i.kind == K::Uid;
        if (!has_uid) req.items.insert(req.items.begin(), FetchItem{K::Uid, {}});
    }
    return req;
}

std::string render_fetch(std::uint32_t seq, const store::MessageInfo& m, const FetchRequest& req,
                         const mail::MessageSummary* sum, std::string_view file, bool flags_changed,
                         bool* unknown_cte) {
    std::string out = "* " + std::to_string(seq) + " FETCH (";
    bool first = true;
    auto item = [&out, &first](std::string_view name) -> std::string& {
        if (!first) out += ' ';
        first = false;
        out.append(name);
        out += ' ';
        return out;
    };
    bool flags_sent = false;
    using K = FetchItem::Kind;
    for (const FetchItem& i : req.items) {
        switch (i.kind) {
            case K::Flags:
                item("FLAGS") += flag_list(m.flags);
                flags_sent = true;
                break;
            case K::Uid:
                item("UID") += std::to_string(m.uid);
                break;
            case K::InternalDate:
                item("INTERNALDATE") += internal_date(m.internal_date);
                break;
            case K::Size:
                item("RFC822.SIZE") += std::to_string(sum ? sum->size_crlf : m.size);
                break;
            case K::Envelope:
                item("ENVELOPE") += sum ? sum->envelope : "NIL";
                break;
            case K::Body:
                item("BODY") += sum ? sum->body : "NIL";
                break;
            case K::BodyStructure:
                item("BODYSTRUCTURE") += sum ? sum->bodystructure : "NIL";
                break;
            case K::Rfc822:
            case K::Rfc822Header:
            case K::Rfc822Text:
            case K::Section: {
                BodySection sec = i.section;
                std::string label = sec.label;
                if (i.kind == K::Rfc822) label = "RFC822";
                if (i.kind == K::Rfc822Header) {
                    sec.text = BodySection::Text::Header;
                    label = "RFC822.HEADER";
                }
                if (i.kind == K::Rfc822Text) {
                    sec.text = BodySection::Text::Text;
                    label = "RFC822.TEXT";
                }
                if (sec.partial) label += "<" + std::to_string(sec.offset) + ">";
                auto data = sum ? section_bytes(sec, *sum, file) : std::nullopt;
                item(label) += data ? literal(*data) : std::string("NIL");
                break;
            }
            case K::Binary:
            case K::BinarySize: {
                bool unknown = false;
                auto data = sum ? binary_bytes(i.section, *sum, file, unknown) : std::nullopt;
                if (unknown && unknown_cte != nullptr) *unknown_cte = true;
                if (i.kind == K::BinarySize) {
                    item(i.section.label) += data ? std::to_string(data->size()) : "NIL";
                    break;
                }
                std::string label = i.section.label;
                if (i.section.partial) label += "<" + std::to_string(i.section.offset) + ">";
                item(label) += data ? binary_literal(*data) : std::string("NIL");
                break;
            }
        }
    }
    if (flags_changed && !flags_sent) item("FLAGS") += flag_list(m.flags);
    out += ")\r\n";
    return out;
}

}  // namespace postern::imap
