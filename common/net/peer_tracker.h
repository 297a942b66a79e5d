// PeerTracker: an in-process anvil (after Postfix anvil(8) and Dovecot's
// auth penalty). Two jobs:
// 1. per-IP connection counts, for the listener's per-IP cap;
// 2. failed-authentication throttling, per client IP and per user name:
//    each failure inside the window raises the delay before the next answer
//    (doubling from base_delay up to max_delay); after max_failures inside
//    the window, blocked() is true and the protocol answers with a temporary
//    error (454 4.7.0 / NO [UNAVAILABLE] / -ERR [SYS/TEMP]) without even
//    checking the password.
// Every failure logs one line fail2ban can match:
//    auth-failed rip=192.0.2.7 user="bob smith"
// (the user is quoted and escaped by the log layer when needed).
// A success clears the user's failures but not the IP's, so one valid
// account cannot launder a brute force from the same address.
// Memory is bounded: at most kMaxTrackedKeys keys are kept.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postern::net {

struct ThrottlePolicy {
    // Dovecot blocks after 10 (AUTH_PENALTY's last step); fail2ban's
    // default maxretry is 5 over 10 minutes.
    unsigned max_failures = 10;  // per client IP
    // Per user, whatever the IP: stops a password spray against one account
    // from many addresses (config auth.max_failures_per_user).
    unsigned max_failures_per_user = 5;
    std::chrono::seconds window{std::chrono::minutes(10)};
    // Dovecot's auth penalty starts at 2 s and caps at 15 s.
    std::chrono::milliseconds base_delay{2000};
    std::chrono::milliseconds max_delay{15000};
};

class PeerTracker {
  public:
    using Clock = std::chrono::steady_clock;
    using Now = std::function<Clock::time_point()>;

    // Bound on tracked IPs plus users; past it the oldest data is dropped.
    static constexpr std::size_t kMaxTrackedKeys = 100000;

    explicit PeerTracker(ThrottlePolicy policy = {}, Now now = &Clock::now);

    // Connection counting. try_connect() counts and returns true, or returns
    // false (and counts nothing) when `ip` already has `per_ip_cap`.
    bool try_connect(const std::string& ip, unsigned per_ip_cap);
    void disconnect(const std::string& ip);
    unsigned connections(const std::string& ip) const;
    unsigned total_connections() const { return total_; }

    void record_failure(std::string_view ip, std::string_view user);
    void record_success(std::string_view ip, std::string_view user);
    // How long to wait before answering this attempt.
    std::chrono::milliseconds delay_for(std::string_view ip, std::string_view user);
    bool blocked(std::string_view ip, std::string_view user);

  private:
    unsigned failures(const std::string& key);
    void prune_if_full();

    ThrottlePolicy policy_;
    Now now_;
    std::unordered_map<std::string, unsigned> connections_;
    unsigned total_ = 0;
    // "ip:<ip>" and "user:<name>" -> failure times inside the window.
    std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

}  // namespace postern::net
