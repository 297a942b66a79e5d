// Mail addresses as the directory stores them.
//
// Only the dot-atom form of RFC 5321 §4.1.2 is accepted for local parts
// (quoted local parts are refused as Invalid: no mailbox we create needs one).
// Domains are ASCII hostnames (RFC 1035 §2.3.1 letters-digits-hyphen labels),
// stored lowercased. Local parts keep their spelling; they are compared
// through local_key() (ASCII-lowercased) so "John" and "john" are one user.
#pragma once

#include <string>
#include <string_view>

#include "storage/store_error.h"

namespace postern::store {

// RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
inline constexpr std::size_t kMaxLocalPartBytes = 64;
inline constexpr std::size_t kMaxDomainBytes = 255;

struct Address {
    std::string local;   // as given
    std::string domain;  // lowercased
    std::string text() const { return local + "@" + domain; }
};

bool is_valid_local_part(std::string_view local);
bool is_valid_domain(std::string_view domain);
std::string local_key(std::string_view local);

// "local@domain" → Address; Invalid with a detail naming what is wrong.
StoreResult<Address> parse_address(std::string_view text);
// A domain name alone → lowercased, or Invalid.
StoreResult<std::string> normalize_domain(std::string_view domain);

}  // namespace postern::store
