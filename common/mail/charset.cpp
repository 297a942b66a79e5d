#include "common/mail/charset.h"

#include "common/base/ascii.h"

namespace postern::mail::detail {

namespace {

std::string latin1_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
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

}  // namespace

std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view bytes) {
    // RFC 2231 §5: a language suffix may follow the charset ("utf-8*en").
    charset = charset.substr(0, charset.find('*'));
    if (iequals(charset, "utf-8") || iequals(charset, "utf8") || iequals(charset, "us-ascii")) {
        return std::string(bytes);
    }
    if (iequals(charset, "iso-8859-1") || iequals(charset, "latin1") ||
        iequals(charset, "iso_8859-1") || iequals(charset, "latin-1")) {
        return latin1_to_utf8(bytes);
    }
    return std::nullopt;
}

}  // namespace postern::mail::detail
