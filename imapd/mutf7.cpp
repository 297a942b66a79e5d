#include "imapd/mutf7.h"

#include <cstdint>
#include <vector>

namespace postern::imap {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

bool is_direct(unsigned char c) {
    return c >= 0x20 && c <= 0x7e;
}

// Decodes one UTF-8 code point at s[i]; false if invalid.
bool next_code_point(std::string_view s, std::size_t& i, std::uint32_t& cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > s.size()) return false;
    cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
        unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

void flush_base64(std::string& out, const std::vector<std::uint16_t>& units) {
    out.push_back('&');
    std::uint32_t bits = 0;
    int nbits = 0;
    for (std::uint16_t u : units) {
        bits = (bits << 16) | u;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out.push_back(kAlphabet[(bits >> nbits) & 0x3f]);
        }
        bits &= (1u << nbits) - 1;
    }
    if (nbits > 0) out.push_back(kAlphabet[(bits << (6 - nbits)) & 0x3f]);
    out.push_back('-');
}

// The UTF-16 units of one base64 run -> UTF-8.
bool decode_units(const std::vector<std::uint16_t>& units, std::string& out) {
    for (std::size_t i = 0; i < units.size(); ++i) {
        std::uint32_t u = units[i];
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff)
                return false;
            u = 0x10000 + ((u - 0xd800) << 10) + (units[++i] - 0xdc00u);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return false;
        } else if (is_direct(static_cast<unsigned char>(u)) && u < 0x80) {
            return false;  // printable ASCII must be sent directly
        }
        append_utf8(out, u);
    }
    return true;
}

}  // namespace

Result<std::string> mutf7_encode(std::string_view utf8) {
    std::string out;
    std::vector<std::uint16_t> units;
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::uint32_t cp = 0;
        if (!next_code_point(utf8, i, cp)) return fail("invalid UTF-8 in mailbox name");
        if (cp < 0x80 && is_direct(static_cast<unsigned char>(cp))) {
            if (!units.empty()) {
                flush_base64(out, units);
                units.clear();
            }
            out += cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(cp));
        } else if (cp < 0x10000) {
            units.push_back(static_cast<std::uint16_t>(cp));
        } else {
            cp -= 0x10000;
            units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
            units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
        }
    }
    if (!units.empty()) flush_base64(out, units);
    return out;
}

Result<std::string> mutf7_decode(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (!is_direct(c)) return fail("invalid byte in modified UTF-7");
        if (c != '&') {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        std::size_t end = s.find('-', i + 1);
        if (end == std::string_view::npos) return fail("unterminated base64 in modified UTF-7");
        if (end == i + 1) {
            out.push_back('&');
            i = end + 1;
            continue;
        }
        std::vector<std::uint16_t> units;
        std::uint32_t bits = 0;
        int nbits = 0;
        for (std::size_t k = i + 1; k < end; ++k) {
            int v = b64_value(s[k]);
            if (v < 0) return fail("invalid base64 in modified UTF-7");
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
            nbits += 6;
            if (nbits >= 16) {
                nbits -= 16;
                units.push_back(static_cast<std::uint16_t>(bits >> nbits));
                bits &= (1u << nbits) - 1;
            }
        }
        // Leftover bits are padding: fewer than 6 and all zero.
        if (nbits >= 6 || bits != 0 || units.empty()) return fail("bad padding in modified UTF-7");
        if (!decode_units(units, out)) return fail("invalid UTF-16 in modified UTF-7");
        i = end + 1;
        // "&AAA-&AAA-" must have been one run (RFC 3501 §5.1.3).
        if (i < s.size() && s[i] == '&' && (i + 1 >= s.size() || s[i + 1] != '-'))
            return fail("adjacent base64 runs in modified UTF-7");
    }
    return out;
}

}  // namespace postern::imap
