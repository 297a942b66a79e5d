#include "storage/address.h"

#include <cstring>

#include "common/base/ascii.h"

namespace postern::store {
namespace {

// atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
//         "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
bool is_atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_let_dig(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Ldh-str label: let-dig [*(let-dig / "-") let-dig], 1..63 octets.
bool is_valid_label(std::string_view label) {
    if (label.empty() || label.size() > 63) return false;
    if (!is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
    for (char c : label) {
        if (!is_let_dig(c) && c != '-') return false;
    }
    return true;
}

}  // namespace

// Dot-string = Atom *("." Atom)
bool is_valid_local_part(std::string_view local) {
    if (local.empty() || local.size() > kMaxLocalPartBytes) return false;
    if (local.front() == '.' || local.back() == '.') return false;
    char prev = '\0';
    for (char c : local) {
        if (c == '.' && prev == '.') return false;
        if (c != '.' && !is_atext(c)) return false;
        prev = c;
    }
    return true;
}

// Domain = sub-domain *("." sub-domain)
bool is_valid_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > kMaxDomainBytes) return false;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = domain.find('.', start);
        std::string_view label = domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!is_valid_label(label)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

std::string local_key(std::string_view local) {
    return ascii_lowercase(local);
}

StoreResult<std::string> normalize_domain(std::string_view domain) {
    if (!is_valid_domain(domain)) {
        return store_fail(StoreError::Invalid, "bad domain syntax: " + printable(domain));
    }
    return ascii_lowercase(domain);
}

StoreResult<Address> parse_address(std::string_view text) {
    std::size_t at = text.rfind('@');
    if (at == std::string_view::npos) {
        return store_fail(StoreError::Invalid, "address without @: " + printable(text));
    }
    std::string_view local = text.substr(0, at);
    if (!is_valid_local_part(local)) {
        return store_fail(StoreError::Invalid, "bad local part: " + printable(text));
    }
    auto domain = normalize_domain(text.substr(at + 1));
    if (!domain) return fail(domain.error());
    return Address{std::string(local), std::move(*domain)};
}

}  // namespace postern::store
