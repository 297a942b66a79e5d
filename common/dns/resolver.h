// postern::dns: the DNS lookups outbound delivery needs (RFC 5321 §5.1):
// MX records of a domain, and the A/AAAA addresses of a host.
//
// BLOCKING: each call sends queries and waits (bounded by
// ResolverConfig::timeout x attempts); call it from the libuv pool or a
// delivery thread, never from the loop thread. Uses glibc's res_nquery on
// a per-call resolver state, so calls from several threads are safe.
//
// The nameserver is configurable (queue.nameserver) so tests point it at a
// dnsmasq on a loopback port; without one, /etc/resolv.conf applies.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::dns {

struct ResolverConfig {
    // IP (v4 or v6) and port of the one nameserver to ask; nullopt: the
    // system's (/etc/resolv.conf).
    struct Server {
        std::string ip;
        std::uint16_t port = 53;
    };
    std::optional<Server> nameserver;
    std::chrono::milliseconds timeout{5000};  // per attempt
    int attempts = 2;
};

enum class Outcome {
    Found,     // records (possibly after CNAME) of the asked type
    NoData,    // the name exists but has no record of that type
    NoDomain,  // NXDOMAIN: the name does not exist (permanent)
    TempFail,  // timeout, SERVFAIL, refused, unparsable answer: try later
};

struct MxRecord {
    std::uint16_t preference = 0;
    std::string host;  // lower case, no trailing dot; "" for the null MX "."
};

struct MxAnswer {
    Outcome outcome = Outcome::TempFail;
    std::vector<MxRecord> records;  // sorted by preference, ties shuffled
    std::string error;              // for the log when TempFail
};

struct AddressAnswer {
    Outcome outcome = Outcome::TempFail;
    std::vector<std::string>
        ips;  // numeric, IPv6 first then IPv4 per RFC 6724 default, or as configured
    std::string error;
};

MxAnswer lookup_mx(const ResolverConfig& config, std::string_view domain);
// A and AAAA. A numeric IP given as host is returned as is without a query.
AddressAnswer lookup_addresses(const ResolverConfig& config, std::string_view host);

// Where mail for a domain goes (RFC 5321 §5.1, RFC 7505).
struct RouteHost {
    std::string name;              // MX host name (for SNI, logs, TLS checks)
    std::vector<std::string> ips;  // its addresses; may be empty when its lookup failed
    bool lookup_failed_temporarily = false;
};

struct Route {
    enum class Kind {
        Hosts,     // try hosts in order
        NullMx,    // RFC 7505: the domain accepts no mail (permanent, 5.1.10)
        NoDomain,  // the domain does not exist (permanent, 5.1.2)
        NoHosts,   // MX records exist but no host has an address (temporary)
        TempFail,  // the MX lookup failed (temporary, 4.4.3)
    };
    Kind kind = Kind::TempFail;
    std::vector<RouteHost> hosts;  // Hosts: MX order; no MX at all: the domain itself (implicit MX)
    std::string error;             // for the log and the bounce's diagnostic
};

// MX lookup, then addresses for each host in preference order (at most
// kMaxMxHosts hosts). No MX records: the domain's own A/AAAA (implicit MX).
Route route_domain(const ResolverConfig& config, std::string_view domain);

}  // namespace postern::dns
