// Reading DNS answers (RFC 1035 §4.1) for the resolver: pure functions over
// one response packet, separate from the sending so that tests can feed
// canned packets (dnsmasq cannot serve every shape we must handle, e.g. the
// RFC 7505 null MX).
//
// CNAMEs: a recursive resolver returns the chain in the answer section
// (RFC 1034 §4.3.2 step 3a); we follow it from the asked name and keep only
// the records owned by the chain's end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/dns/resolver.h"

namespace postern::dns {

// RFC 1034 §3.6.2 allows chains; resolvers cap them (BIND: 16). A longer
// chain in one answer is treated as unparsable.
inline constexpr int kMaxCnameChain = 16;

// RFC 5321 §5.1: a client "MAY limit the number of hosts it tries"; a long
// MX list costs lookups and connections for every queued message. Postfix's
// smtp_mx_address_limit is 5 addresses; we allow 10 hosts.
inline constexpr std::size_t kMaxMxHosts = 10;

// MX records (host lower case, no trailing dot, "" for ".") owned by `name`
// or the end of its CNAME chain, in packet order.
Result<std::vector<MxRecord>> parse_mx_answer(const unsigned char* packet, std::size_t size,
                                              std::string_view name);
// Numeric addresses from A (type 1) or AAAA (type 28) records, likewise.
Result<std::vector<std::string>> parse_address_answer(const unsigned char* packet, std::size_t size,
                                                      std::string_view name, int type);

// Lower case, without one trailing dot: the form names are compared in.
std::string normalize_name(std::string_view name);

// Sorts by preference and shuffles each run of equal preference (RFC 5321
// §5.1: "randomize them to spread the load"), then keeps the first
// kMaxMxHosts. A lone "." with preference 0 is left as is (null MX);
// a "." among other records is dropped (RFC 7505 §3: not a valid null MX).
std::vector<MxRecord> order_mx(std::vector<MxRecord> records);

}  // namespace postern::dns
