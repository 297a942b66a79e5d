#include "common/net/peer_tracker.h"

#include <algorithm>
#include <utility>

#include "common/log/log.h"

namespace postern::net {
namespace {

std::string ip_key(std::string_view ip) {
    return "ip:" + std::string(ip);
}
std::string user_key(std::string_view user) {
    return "user:" + std::string(user);
}

}  // namespace

PeerTracker::PeerTracker(ThrottlePolicy policy, Now now) : policy_(policy), now_(std::move(now)) {}

bool PeerTracker::try_connect(const std::string& ip, unsigned per_ip_cap) {
    unsigned& count = connections_[ip];
    if (count >= per_ip_cap) {
        if (count == 0) connections_.erase(ip);
        return false;
    }
    ++count;
    ++total_;
    return true;
}

void PeerTracker::disconnect(const std::string& ip) {
    auto it = connections_.find(ip);
    if (it == connections_.end()) return;
    --total_;
    if (--it->second == 0) connections_.erase(it);
}

unsigned PeerTracker::connections(const std::string& ip) const {
    auto it = connections_.find(ip);
    return it == connections_.end() ? 0 : it->second;
}

unsigned PeerTracker::failures(const std::string& key) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return 0;
    auto horizon = now_() - policy_.window;
    auto& times = it->second;
    while (!times.empty() && times.front() < horizon)
        times.pop_front();
    if (times.empty()) {
        failures_.erase(it);
        return 0;
    }
    return static_cast<unsigned>(times.size());
}

void PeerTracker::prune_if_full() {
    if (failures_.size() < kMaxTrackedKeys) return;
    auto horizon = now_() - policy_.window;
    std::erase_if(failures_, [&](const auto& kv) { return kv.second.back() < horizon; });
    // Still full: an attack from very many sources; forget everything rather
    // than grow without bound.
    if (failures_.size() >= kMaxTrackedKeys) failures_.clear();
}

void PeerTracker::record_failure(std::string_view ip, std::string_view user) {
    prune_if_full();
    auto now = now_();
    failures_[ip_key(ip)].push_back(now);
    if (!user.empty()) failures_[user_key(user)].push_back(now);
    log::warn("auth-failed").kv("rip", ip).kv("user", user);
}

void PeerTracker::record_success(std::string_view /*ip*/, std::string_view user) {
    failures_.erase(user_key(user));
}

std::chrono::milliseconds PeerTracker::delay_for(std::string_view ip, std::string_view user) {
    unsigned n = std::max(failures(ip_key(ip)), user.empty() ? 0u : failures(user_key(user)));
    if (n == 0) return std::chrono::milliseconds{0};
    auto delay = policy_.base_delay;
    for (unsigned i = 1; i < n && delay < policy_.max_delay; ++i)
        delay *= 2;
    return std::min(delay, policy_.max_delay);
}

bool PeerTracker::blocked(std::string_view ip, std::string_view user) {
    if (failures(ip_key(ip)) >= policy_.max_failures) return true;
    return !user.empty() && failures(user_key(user)) >= policy_.max_failures_per_user;
}

}  // namespace postern::net
