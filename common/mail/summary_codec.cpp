// MessageSummary <-> one JSON string for the index's summary column.
//
// {"v":1,"env":S,"bs":S,"b":S,"size":N,"vsize":N,"lines":N,"lim":B,
//  "sec":[[section,hoff,hsize,hvsize,boff,bsize,bvsize,blines,enc,flags,
//          ihsize,ihvsize],...]}      flags: 1 = multipart, 2 = message/rfc822
//
// IMAP strings may hold raw 8-bit bytes (Dovecot sends them as literals) and
// JSON strings must be UTF-8, so each byte is stored as the code point of the
// same value (U+0000..U+00FF): lossless, and plain ASCII stays readable.
#include <array>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/mail/message_summary.h"

namespace postern::mail {

namespace {

using Json = nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr unsigned kFlagMultipart = 1;
constexpr unsigned kFlagMessage = 2;
constexpr std::size_t kSectionFields = 12;

std::string bytes_to_json_string(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xc0 | (u >> 6));
            out += static_cast<char>(0x80 | (u & 0x3f));
        }
    }
    return out;
}

std::optional<std::string> json_string_to_bytes(const Json& j) {
    if (!j.is_string()) return std::nullopt;
    const std::string& s = j.get_ref<const std::string&>();
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto u = static_cast<unsigned char>(s[i]);
        if (u < 0x80) {
            out += s[i];
        } else if ((u == 0xc2 || u == 0xc3) && i + 1 < s.size()) {
            auto v = static_cast<unsigned char>(s[++i]);
            if ((v & 0xc0) != 0x80) return std::nullopt;
            out += static_cast<char>(((u & 0x03) << 6) | (v & 0x3f));
        } else {
            return std::nullopt;  // a code point above U+00FF: not ours
        }
    }
    return out;
}

std::optional<std::size_t> json_size(const Json& j) {
    if (!j.is_number_unsigned()) return std::nullopt;
    return j.get<std::size_t>();
}

Json section_to_json(const SectionInfo& s) {
    unsigned flags = (s.multipart ? kFlagMultipart : 0) | (s.message ? kFlagMessage : 0);
    return Json::array({bytes_to_json_string(s.section), s.header_offset, s.header_size,
                        s.header_size_crlf, s.body_offset, s.body_size, s.body_size_crlf,
                        s.body_lines, bytes_to_json_string(s.encoding), flags, s.inner_header_size,
                        s.inner_header_size_crlf});
}

std::optional<SectionInfo> section_from_json(const Json& j) {
    if (!j.is_array() || j.size() != kSectionFields) return std::nullopt;
    auto section = json_string_to_bytes(j[0]);
    auto encoding = json_string_to_bytes(j[8]);
    std::array<std::optional<std::size_t>, kSectionFields> n;
    for (std::size_t i : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11}) {
        n[i] = json_size(j[i]);
        if (!n[i]) return std::nullopt;
    }
    if (!section || !encoding) return std::nullopt;
    SectionInfo s;
    s.section = std::move(*section);
    s.header_offset = *n[1];
    s.header_size = *n[2];
    s.header_size_crlf = *n[3];
    s.body_offset = *n[4];
    s.body_size = *n[5];
    s.body_size_crlf = *n[6];
    s.body_lines = *n[7];
    s.encoding = std::move(*encoding);
    s.multipart = (*n[9] & kFlagMultipart) != 0;
    s.message = (*n[9] & kFlagMessage) != 0;
    s.inner_header_size = *n[10];
    s.inner_header_size_crlf = *n[11];
    return s;
}

}  // namespace

std::string serialize(const MessageSummary& summary) {
    Json sections = Json::array();
    for (const SectionInfo& s : summary.sections)
        sections.push_back(section_to_json(s));
    Json j = {{"v", kFormatVersion},
              {"env", bytes_to_json_string(summary.envelope)},
              {"bs", bytes_to_json_string(summary.bodystructure)},
              {"b", bytes_to_json_string(summary.body)},
              {"size", summary.size},
              {"vsize", summary.size_crlf},
              {"lines", summary.lines},
              {"lim", summary.limited},
              {"sec", std::move(sections)}};
    return j.dump();
}

Result<MessageSummary> parse_summary(std::string_view text) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(std::string("summary: not a JSON object"));
    auto field = [&j](const char* key) -> const Json& {
        static const Json kNull;
        auto it = j.find(key);
        return it == j.end() ? kNull : *it;
    };
    if (!field("v").is_number_integer() || field("v").get<int>() != kFormatVersion) {
        return fail(std::string("summary: unknown format version"));
    }
    auto env = json_string_to_bytes(field("env"));
    auto bs = json_string_to_bytes(field("bs"));
    auto b = json_string_to_bytes(field("b"));
    auto size = json_size(field("size"));
    auto vsize = json_size(field("vsize"));
    auto lines = json_size(field("lines"));
    if (!env || !bs || !b || !size || !vsize || !lines || !field("lim").is_boolean() ||
        !field("sec").is_array()) {
        return fail(std::string("summary: missing or mistyped field"));
    }
    MessageSummary s{std::move(*env),
                     std::move(*bs),
                     std::move(*b),
                     *size,
                     *vsize,
                     *lines,
                     field("lim").get<bool>(),
                     {}};
    for (const Json& entry : field("sec")) {
        auto section = section_from_json(entry);
        if (!section) return fail(std::string("summary: malformed section entry"));
        s.sections.push_back(std::move(*section));
    }
    return s;
}

}  // namespace postern::mail
