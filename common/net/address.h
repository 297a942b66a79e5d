// Address: an IPv4 or IPv6 endpoint (or a unix socket path).
//
// Accepted text forms: "127.0.0.1:25", "[::1]:25", "[2001:db8::1]:587",
// "localhost:25" (names go through getaddrinfo: blocking, so only at start-up
// or on the thread pool), "*:25" and "[::]:25" for any address.
// Formats: to_string() gives "127.0.0.1:25" / "[::1]:25"; peer_string()
// gives the log form "[192.0.2.7]:51234". IPv4-mapped IPv6 peers
// (::ffff:192.0.2.7) are reported and counted as IPv4.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "common/base/result.h"

namespace postern::net {

// "host:port" split, before any resolution.
struct Endpoint {
    std::string host;  // without brackets; "" or "*" means any
    std::uint16_t port = 0;
};

Result<Endpoint> parse_endpoint(std::string_view text);

class Address {
  public:
    Address() = default;
    static Result<Address> from_sockaddr(const sockaddr* sa, socklen_t len);
    // A numeric IP only (no DNS).
    static Result<Address> numeric(std::string_view ip, std::uint16_t port);
    // A numeric "ip:port" / "[ip6]:port".
    static Result<Address> parse(std::string_view text);
    static Address unix_path(std::string path);

    bool is_unix() const { return !path_.empty(); }
    bool is_v6() const;
    bool is_loopback() const;
    std::uint16_t port() const;
    // "192.0.2.7", "2001:db8::1", or the socket path.
    std::string ip_string() const;
    std::string to_string() const;
    std::string peer_string() const;

    const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t sockaddr_len() const { return len_; }

  private:
    void unmap_v4();

    sockaddr_storage storage_{};
    socklen_t len_ = 0;
    std::string path_;
};

// Numeric hosts directly; names through getaddrinfo (BLOCKING). "*" or ""
// gives both 0.0.0.0 and ::.
Result<std::vector<Address>> resolve(const Endpoint& endpoint);

}  // namespace postern::net
