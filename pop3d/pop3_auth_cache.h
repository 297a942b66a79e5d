// AuthCache: the verification cache of DESIGN.md "Auth", so that clients
// polling every few minutes (fetchmail, phones) do not pay for Argon2id at
// each login.
//
// An entry is keyed by a keyed BLAKE2b hash of (user, password) under a
// per-process random key - never the password itself - and remembers the
// stored hash it was verified against, so a password change (a new stored
// hash) makes the entry useless at once. Entries expire after `ttl`; memory
// is bounded by kMaxEntries. Thread-safe: the pool threads share it.
// TODO(pop3d): smtpd has the same class (smtpd/smtp_auth.h); move one copy
// to common/ so every daemon shares it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/log/secret.h"

namespace postern::pop3 {

class AuthCache {
  public:
    using Clock = std::chrono::steady_clock;
    // A busy server has a few thousand active users; past this the cache is
    // emptied (it is an optimisation, never a correctness matter).
    static constexpr std::size_t kMaxEntries = 10000;

    explicit AuthCache(std::chrono::seconds ttl);

    bool enabled() const { return ttl_.count() > 0; }
    // True when (user, password) was verified against `stored_hash` within ttl.
    bool hit(std::string_view user, const Secret<std::string>& password,
             std::string_view stored_hash);
    void remember(std::string_view user, const Secret<std::string>& password,
                  std::string_view stored_hash);

  private:
    struct Entry {
        std::string stored_hash;
        Clock::time_point expires;
    };
    std::string key_of(std::string_view user, const Secret<std::string>& password) const;

    std::chrono::seconds ttl_;
    std::array<unsigned char, 32> secret_key_{};
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace postern::pop3
