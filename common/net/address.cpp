#include "common/net/address.h"

#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

namespace postern::net {
namespace {

Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return fail("bad port '" + std::string(text) + "'");
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return fail("bad port '" + std::string(text) + "'");
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return fail("port out of range '" + std::string(text) + "'");
    return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return fail("bad address '" + std::string(text) + "': want [ipv6]:port");
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) {
            return fail("bad address '" + std::string(text) + "': want host:port or [ipv6]:port");
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    auto p = parse_port(port);
    if (!p) return fail(p.error());
    return Endpoint{std::string(host), *p};
}

Result<Address> Address::from_sockaddr(const sockaddr* sa, socklen_t len) {
    if (sa == nullptr || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
        len > static_cast<socklen_t>(sizeof(sockaddr_storage))) {
        return fail("unsupported address family");
    }
    Address a;
    std::memcpy(&a.storage_, sa, len);
    a.len_ = len;
    a.unmap_v4();
    return a;
}

Result<Address> Address::numeric(std::string_view ip, std::uint16_t port) {
    std::string host(ip);
    Address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len_ = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len_ = sizeof(sockaddr_in6);
    } else {
        return fail("not a numeric IP address '" + host + "'");
    }
    a.unmap_v4();
    return a;
}

Result<Address> Address::parse(std::string_view text) {
    auto ep = parse_endpoint(text);
    if (!ep) return fail(ep.error());
    return numeric(ep->host, ep->port);
}

Address Address::unix_path(std::string path) {
    Address a;
    a.path_ = std::move(path);
    return a;
}

void Address::unmap_v4() {
    if (storage_.ss_family != AF_INET6) return;
    auto v6 = *reinterpret_cast<sockaddr_in6*>(&storage_);
    if (!IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) return;
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = v6.sin6_port;
    std::memcpy(&v4.sin_addr, &v6.sin6_addr.s6_addr[12], 4);
    storage_ = {};
    std::memcpy(&storage_, &v4, sizeof v4);
    len_ = sizeof v4;
}

bool Address::is_v6() const {
    return !is_unix() && storage_.ss_family == AF_INET6;
}

bool Address::is_loopback() const {
    if (is_unix()) return true;
    if (storage_.ss_family == AF_INET) {
        auto addr = ntohl(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr);
        return (addr >> 24) == 127;  // 127.0.0.0/8, RFC 1122 §3.2.1.3
    }
    const auto& in6 = reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&in6);
}

std::uint16_t Address::port() const {
    if (is_unix() || len_ == 0) return 0;
    if (storage_.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
}

std::string Address::ip_string() const {
    if (is_unix()) return path_;
    char buf[INET6_ADDRSTRLEN] = {};
    if (storage_.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                  sizeof buf);
    } else if (storage_.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                  sizeof buf);
    } else {
        return "unknown";
    }
    return buf;
}

std::string Address::to_string() const {
    if (is_unix()) return "unix:" + path_;
    std::string ip = ip_string();
    if (is_v6()) ip = "[" + ip + "]";
    return ip + ":" + std::to_string(port());
}

std::string Address::peer_string() const {
    if (is_unix()) return "unix:" + path_;
    return "[" + ip_string() + "]:" + std::to_string(port());
}

Result<std::vector<Address>> resolve(const Endpoint& endpoint) {
    if (endpoint.host.empty() || endpoint.host == "*") {
        return std::vector<Address>{*Address::numeric("0.0.0.0", endpoint.port),
                                    *Address::numeric("::", endpoint.port)};
    }
    if (auto a = Address::numeric(endpoint.host, endpoint.port)) {
        return std::vector<Address>{*a};
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    addrinfo* list = nullptr;
    std::string port = std::to_string(endpoint.port);
    int rc = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) return fail("resolve '" + endpoint.host + "': " + gai_strerror(rc));
    std::vector<Address> out;
    for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
        if (auto a = Address::from_sockaddr(ai->ai_addr, ai->ai_addrlen)) out.push_back(*a);
    }
    freeaddrinfo(list);
    if (out.empty()) return fail("resolve '" + endpoint.host + "': no usable address");
    return out;
}

}  // namespace postern::net
