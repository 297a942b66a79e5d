#include "common/smtp/smtp_params.h"

#include <limits>
#include <vector>

#include "common/base/ascii.h"
#include "common/smtp/smtp_utf8.h"

namespace postern::smtp {
namespace {

struct Param {
    std::string_view keyword;
    std::optional<std::string_view> value;
};

ParseError bad_syntax(std::string text) {
    return parse_error(501, "5.5.4", std::move(text));
}
ParseError unknown_param() {
    return parse_error(555, "5.5.4", "Unsupported parameter");
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool valid_keyword(std::string_view k) {
    if (k.empty() || !is_alnum(k[0])) return false;
    for (const char c : k) {
        if (!is_alnum(c) && c != '-') return false;
    }
    return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126)   ; RFC 6531 §4.3: =/ UTF8-non-ascii
bool valid_value(std::string_view v) {
    if (v.empty()) return false;
    for (std::size_t i = 0; i < v.size();) {
        const auto u = static_cast<unsigned char>(v[i]);
        if (u >= 0x80) {
            const std::size_t n = utf8_sequence_length(v.substr(i));
            if (n == 0) return false;
            i += n;
            continue;
        }
        if (u < 33 || u > 126 || u == '=') return false;
        ++i;
    }
    return true;
}

// Mail-parameters = esmtp-param *(SP esmtp-param)
// esmtp-param = esmtp-keyword ["=" esmtp-value]
Result<std::vector<Param>, ParseError> split_params(std::string_view text) {
    std::vector<Param> params;
    if (text.empty()) return params;
    for (;;) {
        const std::size_t sp = text.find(' ');
        const std::string_view item = text.substr(0, sp);
        const std::size_t eq = item.find('=');
        Param p{item.substr(0, eq), std::nullopt};
        if (eq != std::string_view::npos) p.value = item.substr(eq + 1);
        if (!valid_keyword(p.keyword) || (p.value && !valid_value(*p.value))) {
            return fail(bad_syntax("Bad parameter syntax"));
        }
        for (const Param& seen : params) {
            if (iequals(seen.keyword, p.keyword)) return fail(bad_syntax("Duplicate parameter"));
        }
        params.push_back(p);
        if (sp == std::string_view::npos) return params;
        text.remove_prefix(sp + 1);
    }
}

// size-value ::= 1*20DIGIT   (RFC 1870 §3)
std::optional<std::uint64_t> parse_size(std::string_view v) {
    if (v.empty() || v.size() > kMaxSizeDigits) return std::nullopt;
    std::uint64_t n = 0;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    for (const char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        n = (n > (kMax - d) / 10) ? kMax : n * 10 + d;
    }
    return n;
}

std::optional<Body> parse_body(std::string_view v) {
    if (iequals(v, "7BIT")) return Body::SevenBit;
    if (iequals(v, "8BITMIME")) return Body::EightBitMime;
    if (iequals(v, "BINARYMIME")) return Body::BinaryMime;
    return std::nullopt;
}

// notify-esmtp-value = "NEVER" / 1#notify-list-element
// notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"     (RFC 3461 §4.1)
std::uint8_t parse_notify(std::string_view v) {
    if (iequals(v, "NEVER")) return kNotifyNever;
    std::uint8_t flags = 0;
    for (;;) {
        const std::size_t comma = v.find(',');
        const std::string_view item = v.substr(0, comma);
        std::uint8_t bit = 0;
        if (iequals(item, "SUCCESS")) bit = kNotifySuccess;
        if (iequals(item, "FAILURE")) bit = kNotifyFailure;
        if (iequals(item, "DELAY")) bit = kNotifyDelay;
        if (bit == 0 || (flags & bit) != 0) return 0;
        flags |= bit;
        if (comma == std::string_view::npos) return flags;
        v.remove_prefix(comma + 1);
    }
}

// orcpt-parameter = "ORCPT=" original-recipient-address
// original-recipient-address = addr-type ";" xtext;  addr-type = atom  (RFC 3461 §4.2)
std::optional<Orcpt> parse_orcpt(std::string_view v) {
    const std::size_t semi = v.find(';');
    if (semi == 0 || semi == std::string_view::npos) return std::nullopt;
    const std::string_view type = v.substr(0, semi);
    for (const char c : type) {
        if (!is_alnum(c) && c != '-') return std::nullopt;
    }
    auto address = xtext_decode(v.substr(semi + 1));
    if (!address || address->empty()) return std::nullopt;
    return Orcpt{std::string(type), std::move(*address)};
}

ParseStatus apply_mail_param(const Param& p, MailParams& out) {
    if (iequals(p.keyword, "SMTPUTF8")) {
        if (p.value) return fail(bad_syntax("SMTPUTF8 takes no value"));
        out.smtputf8 = true;
        return {};
    }
    if (!p.value) {
        const bool known = iequals(p.keyword, "SIZE") || iequals(p.keyword, "BODY") ||
                           iequals(p.keyword, "RET") || iequals(p.keyword, "ENVID") ||
                           iequals(p.keyword, "AUTH");
        return known ? fail(bad_syntax("Parameter requires a value")) : fail(unknown_param());
    }
    const std::string_view v = *p.value;
    if (iequals(p.keyword, "SIZE")) {
        out.size = parse_size(v);
        if (!out.size) return fail(bad_syntax("Bad SIZE value"));
    } else if (iequals(p.keyword, "BODY")) {
        const auto body = parse_body(v);
        if (!body) return fail(bad_syntax("Bad BODY value"));
        out.body = *body;
    } else if (iequals(p.keyword, "RET")) {
        if (iequals(v, "FULL"))
            out.ret = Ret::Full;
        else if (iequals(v, "HDRS"))
            out.ret = Ret::Hdrs;
        else
            return fail(bad_syntax("Bad RET value"));
    } else if (iequals(p.keyword, "ENVID")) {
        out.envid = xtext_decode(v);
        if (v.size() > kMaxEnvidBytes || !out.envid) return fail(bad_syntax("Bad ENVID value"));
    } else if (iequals(p.keyword, "AUTH")) {
        out.auth = v == "<>" ? std::optional<std::string>("<>") : xtext_decode(v);
        if (!out.auth) return fail(bad_syntax("Bad AUTH value"));
    } else {
        return fail(unknown_param());
    }
    return {};
}

ParseStatus apply_rcpt_param(const Param& p, RcptParams& out) {
    const bool notify = iequals(p.keyword, "NOTIFY");
    const bool orcpt = iequals(p.keyword, "ORCPT");
    if (!notify && !orcpt) return fail(unknown_param());
    if (!p.value) return fail(bad_syntax("Parameter requires a value"));
    if (notify) {
        out.notify = parse_notify(*p.value);
        if (out.notify == 0) return fail(bad_syntax("Bad NOTIFY value"));
        return {};
    }
    // "ORCPT=" counts towards the 500-character limit.
    if (p.value->size() + 6 > kMaxOrcptBytes) return fail(bad_syntax("ORCPT too long"));
    out.orcpt = parse_orcpt(*p.value);
    if (!out.orcpt) return fail(bad_syntax("Bad ORCPT value"));
    return {};
}

}  // namespace

Result<MailParams, ParseError> parse_mail_params(std::string_view text) {
    auto params = split_params(text);
    if (!params) return fail(params.error());
    MailParams out;
    for (const Param& p : *params) {
        if (auto st = apply_mail_param(p, out); !st) return fail(st.error());
    }
    return out;
}

Result<RcptParams, ParseError> parse_rcpt_params(std::string_view text) {
    auto params = split_params(text);
    if (!params) return fail(params.error());
    RcptParams out;
    for (const Param& p : *params) {
        if (auto st = apply_rcpt_param(p, out); !st) return fail(st.error());
    }
    return out;
}

std::optional<std::string> xtext_decode(std::string_view text) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex(text[i + 1]);
            const int lo = hex(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c >= '!' && c <= '~' && c != '=') {
            out += c;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

std::string xtext_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= '!' && u <= '~' && c != '+' && c != '=') {
            out += c;
        } else {
            out += '+';
            out += kHex[u >> 4];
            out += kHex[u & 0xF];
        }
    }
    return out;
}

}  // namespace postern::smtp
