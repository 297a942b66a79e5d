// limits_from() and addresses_of(): config values -> listener plans.
#include <chrono>

#include "common/daemon/daemon.h"

namespace postern::daemon {

net::ConnectionLimits limits_from(const config::Config& cfg, std::uint64_t max_line_bytes,
                                  std::uint64_t idle_timeout_seconds,
                                  std::uint64_t max_bad_commands) {
    // Everything not named here keeps net::ConnectionLimits' documented default.
    net::ConnectionLimits limits;
    limits.max_line_bytes = static_cast<std::size_t>(max_line_bytes);
    limits.idle_timeout = std::chrono::seconds(idle_timeout_seconds);
    limits.max_bad_commands = static_cast<unsigned>(max_bad_commands);
    limits.max_connections_total = static_cast<unsigned>(cfg.connections.max_total);
    limits.max_connections_per_ip = static_cast<unsigned>(cfg.connections.max_per_ip);
    return limits;
}

std::vector<std::string> addresses_of(const std::vector<config::Endpoint>& endpoints) {
    std::vector<std::string> out;
    out.reserve(endpoints.size());
    for (const auto& ep : endpoints) {
        // Endpoint::to_string() brackets IPv6 hosts: "[::1]:25".
        out.push_back(ep.to_string());
    }
    return out;
}

}  // namespace postern::daemon
