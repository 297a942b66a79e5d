#include "common/dns/resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/base/ascii.h"
#include "common/dns/dns_answer.h"

namespace postern::dns {
namespace {

// The largest DNS message over TCP (RFC 1035 §4.2.2: two-octet length);
// res_nquery falls back to TCP for truncated answers.
constexpr std::size_t kMaxAnswerBytes = 65535;

// A res_state of our own for one call: res_ninit reads /etc/resolv.conf,
// then the configured nameserver replaces its list.
class ResolverState {
  public:
    ResolverState() { std::memset(&state_, 0, sizeof state_); }
    ~ResolverState() {
        if (initialized_) res_nclose(&state_);
    }
    ResolverState(const ResolverState&) = delete;
    ResolverState& operator=(const ResolverState&) = delete;

    Result<void> init(const ResolverConfig& config);
    res_state get() { return &state_; }

  private:
    Result<void> use_server(const ResolverConfig::Server& server);

    struct __res_state state_;
    bool initialized_ = false;
};

Result<void> ResolverState::init(const ResolverConfig& config) {
    if (res_ninit(&state_) != 0) return fail(std::string("dns: res_ninit failed"));
    initialized_ = true;
    // glibc's retrans is whole seconds per attempt (with one server).
    const auto seconds = (config.timeout.count() + 999) / 1000;
    state_.retrans = static_cast<int>(std::max<std::int64_t>(1, seconds));
    state_.retry = std::max(1, config.attempts);
    // Names are absolute: no search list, no default domain appended.
    state_.options &= ~static_cast<unsigned long>(RES_DNSRCH | RES_DEFNAMES);
    if (config.nameserver) return use_server(*config.nameserver);
    return {};
}

// IPv4 goes in nsaddr_list. IPv6 goes in the extension array glibc keeps
// for it (_u._ext.nsaddrs, heap-allocated and freed by res_nclose) with
// nsaddr_list's family 0, which is how res_ninit itself stores an IPv6
// server from resolv.conf.
Result<void> ResolverState::use_server(const ResolverConfig::Server& server) {
    for (int i = 0; i < MAXNS; ++i) {
        std::free(state_._u._ext.nsaddrs[i]);
        state_._u._ext.nsaddrs[i] = nullptr;
    }
    state_.nscount = 1;
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    if (inet_pton(AF_INET, server.ip.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(server.port);
        state_.nsaddr_list[0] = v4;
        return {};
    }
    if (inet_pton(AF_INET6, server.ip.c_str(), &v6.sin6_addr) != 1) {
        return fail("dns: nameserver is not a numeric IP: " + server.ip);
    }
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(server.port);
    auto* copy = static_cast<sockaddr_in6*>(std::malloc(sizeof v6));
    if (copy == nullptr) return fail(std::string("dns: out of memory"));
    std::memcpy(copy, &v6, sizeof v6);
    state_.nsaddr_list[0].sin_family = 0;
    state_._u._ext.nsaddrs[0] = copy;
    return {};
}

struct QueryResult {
    Outcome outcome = Outcome::TempFail;
    std::vector<unsigned char> packet;  // when Found
    std::string error;
};

const char* type_name(int type) {
    return type == ns_t_mx ? "MX" : type == ns_t_aaaa ? "AAAA" : "A";
}

const char* herror_text(int h) {
    switch (h) {
        case HOST_NOT_FOUND:
            return "NXDOMAIN";
        case NO_DATA:
            return "no records of that type";
        case TRY_AGAIN:
            return "timeout or SERVFAIL";
        case NO_RECOVERY:
            return "refused or unanswerable (FORMERR/NOTIMP/REFUSED)";
        default:
            return "resolver failure";
    }
}

// res_nquery maps the rcode to h_errno (glibc res_query.c): NXDOMAIN ->
// HOST_NOT_FOUND, NOERROR without answers -> NO_DATA, SERVFAIL and
// timeouts -> TRY_AGAIN, others -> NO_RECOVERY.
QueryResult query(const ResolverConfig& config, std::string_view name, int type) {
    ResolverState state;
    if (auto ok = state.init(config); !ok) return {Outcome::TempFail, {}, ok.error().message};
    std::vector<unsigned char> packet(kMaxAnswerBytes);
    const std::string qname(name);
    const int n = res_nquery(state.get(), qname.c_str(), ns_c_in, type, packet.data(),
                             static_cast<int>(packet.size()));
    if (n < 0) {
        const int h = state.get()->res_h_errno;
        const std::string text = "dns: " + qname + "/" + type_name(type) + ": " + herror_text(h);
        if (h == HOST_NOT_FOUND) return {Outcome::NoDomain, {}, text};
        if (h == NO_DATA) return {Outcome::NoData, {}, text};
        return {Outcome::TempFail, {}, text};
    }
    packet.resize(static_cast<std::size_t>(std::min<int>(n, static_cast<int>(kMaxAnswerBytes))));
    return {Outcome::Found, std::move(packet), {}};
}

// "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3) -> the IP; "" if
// `domain` is not a valid address literal.
std::string address_literal_ip(std::string_view domain) {
    if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return {};
    std::string_view inner = domain.substr(1, domain.size() - 2);
    unsigned char buf[sizeof(in6_addr)];
    if (istarts_with(inner, "IPv6:")) {
        const std::string ip(inner.substr(5));
        return inet_pton(AF_INET6, ip.c_str(), buf) == 1 ? ip : std::string();
    }
    const std::string ip(inner);
    return inet_pton(AF_INET, ip.c_str(), buf) == 1 ? ip : std::string();
}

bool is_numeric_ip(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

MxAnswer lookup_mx(const ResolverConfig& config, std::string_view domain) {
    auto result = query(config, domain, ns_t_mx);
    if (result.outcome != Outcome::Found) return {result.outcome, {}, result.error};
    auto records = parse_mx_answer(result.packet.data(), result.packet.size(), domain);
    if (!records) return {Outcome::TempFail, {}, records.error().message};
    // Only CNAMEs (or other types) in the answer: the name has no MX.
    if (records->empty()) return {Outcome::NoData, {}, {}};
    return {Outcome::Found, order_mx(std::move(*records)), {}};
}

AddressAnswer lookup_addresses(const ResolverConfig& config, std::string_view host) {
    const std::string name(host);
    if (is_numeric_ip(name)) return {Outcome::Found, {name}, {}};
    AddressAnswer out;
    out.outcome = Outcome::NoData;
    bool any_nodomain = false;
    bool any_temp = false;
    for (const int type : {ns_t_aaaa, ns_t_a}) {
        auto result = query(config, host, type);
        if (result.outcome == Outcome::Found) {
            auto ips = parse_address_answer(result.packet.data(), result.packet.size(), host, type);
            if (ips) {
                out.ips.insert(out.ips.end(), ips->begin(), ips->end());
                continue;
            }
            result.error = ips.error().message;
            result.outcome = Outcome::TempFail;
        }
        any_nodomain = any_nodomain || result.outcome == Outcome::NoDomain;
        any_temp = any_temp || result.outcome == Outcome::TempFail;
        if (!result.error.empty()) out.error = result.error;
    }
    if (!out.ips.empty()) {
        out.outcome = Outcome::Found;
    } else if (any_temp) {
        out.outcome = Outcome::TempFail;
    } else if (any_nodomain) {
        out.outcome = Outcome::NoDomain;
    }
    return out;
}

namespace {

Route route_mx_hosts(const ResolverConfig& config, const std::vector<MxRecord>& records) {
    Route route;
    route.kind = Route::Kind::Hosts;
    bool any_address = false;
    for (const auto& mx : records) {
        auto addresses = lookup_addresses(config, mx.host);
        RouteHost host{mx.host, std::move(addresses.ips), addresses.outcome == Outcome::TempFail};
        any_address = any_address || !host.ips.empty();
        if (!addresses.error.empty()) route.error = addresses.error;
        route.hosts.push_back(std::move(host));
    }
    if (!any_address) {
        route.kind = Route::Kind::NoHosts;
        if (route.error.empty()) route.error = "no MX host has an address";
    }
    return route;
}

// RFC 5321 §5.1: no MX records at all -> the domain itself is the host.
Route route_implicit_mx(const ResolverConfig& config, const std::string& domain) {
    auto addresses = lookup_addresses(config, domain);
    Route route;
    switch (addresses.outcome) {
        case Outcome::Found:
            route.kind = Route::Kind::Hosts;
            route.hosts.push_back(RouteHost{domain, std::move(addresses.ips), false});
            return route;
        case Outcome::TempFail:
            return Route{Route::Kind::TempFail, {}, addresses.error};
        case Outcome::NoData:
        case Outcome::NoDomain:
            break;
    }
    return Route{Route::Kind::NoDomain, {}, "no MX and no address records for " + domain};
}

}  // namespace

Route route_domain(const ResolverConfig& config, std::string_view domain) {
    if (const std::string ip = address_literal_ip(domain); !ip.empty()) {
        return Route{Route::Kind::Hosts, {RouteHost{std::string(domain), {ip}, false}}, {}};
    }
    const std::string name = normalize_name(domain);
    auto mx = lookup_mx(config, name);
    switch (mx.outcome) {
        case Outcome::TempFail:
            return Route{Route::Kind::TempFail, {}, mx.error};
        case Outcome::NoDomain:
            return Route{Route::Kind::NoDomain, {}, "domain " + name + " does not exist"};
        case Outcome::NoData:
            return route_implicit_mx(config, name);
        case Outcome::Found:
            break;
    }
    if (mx.records.size() == 1 && mx.records[0].host.empty()) {
        return Route{Route::Kind::NullMx, {}, "domain " + name + " accepts no mail (null MX)"};
    }
    return route_mx_hosts(config, mx.records);
}

}  // namespace postern::dns
