#include "common/sasl/sasl.h"

#include <array>
#include <cstdint>

namespace postern::sasl {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> table{};
    table.fill(kInvalid);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
    }
    return table;
}
constexpr auto kDecode = make_decode_table();

// Wipes a decoded message that held a password, whatever happens next.
struct Wiped {
    Secret<std::string> text;
    std::string_view view() const { return text.reveal(); }
};

Result<std::string, SaslError> check_field(std::string_view field, SaslError if_empty) {
    if (field.empty()) return fail(if_empty);
    if (field.size() > kMaxFieldBytes) return fail(SaslError::TooLong);
    if (field.find('\0') != std::string_view::npos) return fail(SaslError::Malformed);
    return std::string(field);
}

}  // namespace

const char* to_string(SaslError error) {
    switch (error) {
        case SaslError::BadBase64:
            return "bad-base64";
        case SaslError::Malformed:
            return "malformed";
        case SaslError::EmptyAuthcid:
            return "empty-authcid";
        case SaslError::EmptyPassword:
            return "empty-password";
        case SaslError::TooLong:
            return "too-long";
        case SaslError::AuthzidNotAllowed:
            return "authzid-not-allowed";
    }
    return "unknown";
}

Result<std::string, SaslError> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return fail(SaslError::BadBase64);
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < text.size() - pad; ++i) {
        const std::uint8_t v = kDecode[static_cast<unsigned char>(text[i])];
        if (v == kInvalid) return fail(SaslError::BadBase64);  // includes a misplaced '='
        bits = (bits << 6) | v;
        if (i % 4 == 3) {
            out.push_back(static_cast<char>(bits >> 16));
            out.push_back(static_cast<char>(bits >> 8));
            out.push_back(static_cast<char>(bits));
            bits = 0;
        }
    }
    // The last quantum: 2 chars carry 1 byte (4 spare bits), 3 carry 2 bytes
    // (2 spare bits). Spare bits must be zero (RFC 4648 §3.5), so that every
    // byte string has exactly one accepted encoding.
    if (pad == 2) {
        if ((bits & 0xf) != 0) return fail(SaslError::BadBase64);
        out.push_back(static_cast<char>(bits >> 4));
    } else if (pad == 1) {
        if ((bits & 0x3) != 0) return fail(SaslError::BadBase64);
        out.push_back(static_cast<char>(bits >> 10));
        out.push_back(static_cast<char>(bits >> 2));
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16 |
                                static_cast<unsigned char>(bytes[i + 1]) << 8 |
                                static_cast<unsigned char>(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0})
            out.push_back(kAlphabet[(v >> shift) & 0x3f]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
        out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3f] : '=');
        out.push_back('=');
    }
    return out;
}

Result<std::string, SaslError> decode_initial_response(std::string_view text) {
    if (text == "=") return std::string();
    return base64_decode(text);
}

bool is_cancel(std::string_view response) {
    return response == "*";
}

Result<PlainCredentials, SaslError> decode_plain(std::string_view message, Authzid policy) {
    const std::size_t first = message.find('\0');
    if (first == std::string_view::npos) return fail(SaslError::Malformed);
    const std::size_t second = message.find('\0', first + 1);
    // Exactly two NULs: a third would sit inside the password (RFC 4616 §2:
    // fields are 1*SAFE, and SAFE excludes NUL).
    if (second == std::string_view::npos) return fail(SaslError::Malformed);
    if (message.find('\0', second + 1) != std::string_view::npos) return fail(SaslError::Malformed);

    const std::string_view authzid = message.substr(0, first);
    const std::string_view authcid = message.substr(first + 1, second - first - 1);
    const std::string_view password = message.substr(second + 1);
    if (authzid.size() > kMaxFieldBytes) return fail(SaslError::TooLong);
    auto user = check_field(authcid, SaslError::EmptyAuthcid);
    if (!user) return fail(user.error());
    auto pass = check_field(password, SaslError::EmptyPassword);
    if (!pass) return fail(pass.error());
    if (policy == Authzid::EmptyOrSame && !authzid.empty() && authzid != authcid) {
        return fail(SaslError::AuthzidNotAllowed);
    }
    return PlainCredentials{std::string(authzid), std::move(*user),
                            Secret<std::string>(std::move(*pass))};
}

Result<PlainCredentials, SaslError> decode_plain_base64(std::string_view text, Authzid policy) {
    auto decoded = decode_initial_response(text);
    if (!decoded) return fail(decoded.error());
    const Wiped message{Secret<std::string>(std::move(*decoded))};
    return decode_plain(message.view(), policy);
}

Result<std::string, SaslError> decode_login_user(std::string_view text) {
    auto decoded = decode_initial_response(text);
    if (!decoded) return fail(decoded.error());
    return check_field(*decoded, SaslError::EmptyAuthcid);
}

Result<Secret<std::string>, SaslError> decode_login_password(std::string_view text) {
    auto decoded = decode_initial_response(text);
    if (!decoded) return fail(decoded.error());
    const Wiped message{Secret<std::string>(std::move(*decoded))};
    auto pass = check_field(message.view(), SaslError::EmptyPassword);
    if (!pass) return fail(pass.error());
    return Secret<std::string>(std::move(*pass));
}

}  // namespace postern::sasl
