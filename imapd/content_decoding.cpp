#include "imapd/content_decoding.h"

#include "common/base/ascii.h"

namespace postern::imap {

namespace {

// One line of quoted-printable without its line break; `hard` says whether
// a line break followed it.
void decode_qp_line(std::string_view line, bool hard, std::string& out) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    for (std::size_t i = 0; i < line.size(); ++i) {
        int hi = line[i] == '=' && i + 2 < line.size() ? hex_value(line[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(line[i + 2]) : -1;
        if (lo >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += line[i];
        }
    }
    if (hard && !soft) out += "\r\n";
}

}  // namespace

std::string decode_base64_lenient(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    unsigned bits = 0;
    int count = 0;
    for (char c : text) {
        if (c == '=') break;
        int v = base64_value(c);
        if (v < 0) continue;
        bits = (bits << 6) | static_cast<unsigned>(v);
        if (++count == 4) {
            out += static_cast<char>((bits >> 16) & 0xff);
            out += static_cast<char>((bits >> 8) & 0xff);
            out += static_cast<char>(bits & 0xff);
            bits = 0;
            count = 0;
        }
    }
    // A partial quantum: 2 characters carry one octet, 3 carry two.
    if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
    if (count == 3) {
        out += static_cast<char>((bits >> 10) & 0xff);
        out += static_cast<char>((bits >> 2) & 0xff);
    }
    return out;
}

std::string decode_quoted_printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        bool hard = nl != std::string_view::npos;
        std::size_t end = hard ? nl : text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        decode_qp_line(line, hard, out);
        pos = hard ? nl + 1 : text.size();
    }
    return out;
}

std::optional<std::string> decode_content(std::string_view data, std::string_view encoding) {
    if (encoding.empty() || iequals(encoding, "7bit") || iequals(encoding, "8bit") ||
        iequals(encoding, "binary"))
        return std::string(data);
    if (iequals(encoding, "base64")) return decode_base64_lenient(data);
    if (iequals(encoding, "quoted-printable")) return decode_quoted_printable(data);
    return std::nullopt;
}

}  // namespace postern::imap
