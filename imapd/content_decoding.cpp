#include "imapd/content_decoding.h"

#include <iconv.h>

#include <cerrno>

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

// iconv_open() names are ASCII tokens; anything else in a Content-Type
// parameter is not a charset we should hand to the C library.
constexpr std::size_t kMaxCharsetName = 40;  // IANA names: at most 40 (RFC 2978 §2.3)

bool plausible_charset(std::string_view name) {
    if (name.empty() || name.size() > kMaxCharsetName) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

// Owns one iconv descriptor.
class Converter {
  public:
    explicit Converter(const std::string& from) : cd_(iconv_open("UTF-8", from.c_str())) {}
    ~Converter() {
        if (valid()) iconv_close(cd_);
    }
    Converter(const Converter&) = delete;
    Converter& operator=(const Converter&) = delete;
    bool valid() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

    std::string run(std::string_view text) {
        std::string out;
        out.reserve(text.size() + text.size() / 2);
        char* in = const_cast<char*>(text.data());  // iconv's signature; not written
        std::size_t in_left = text.size();
        char buffer[4096];
        while (in_left > 0) {
            char* dst = buffer;
            std::size_t dst_left = sizeof buffer;
            std::size_t rc = iconv(cd_, &in, &in_left, &dst, &dst_left);
            out.append(buffer, sizeof buffer - dst_left);
            if (rc != static_cast<std::size_t>(-1) || errno == E2BIG) continue;
            if (errno != EILSEQ) break;  // EINVAL: incomplete sequence at the end
            out += "\xEF\xBF\xBD";       // U+FFFD for the invalid byte
            ++in;
            --in_left;
            iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // reset shift state
        }
        return out;
    }

  private:
    iconv_t cd_;
};

}  // namespace

std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view text) {
    if (iequals(charset, "utf-8") || iequals(charset, "us-ascii") || iequals(charset, "utf8"))
        return std::string(text);
    if (!plausible_charset(charset)) return std::nullopt;
    Converter converter{std::string(charset)};
    if (!converter.valid()) return std::nullopt;
    return converter.run(text);
}

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
