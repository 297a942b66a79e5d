// Password logins shared by every daemon that authenticates (submission
// AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS/AUTH), and the verification
// cache of DESIGN.md "Auth".
//
// verify_login() is BLOCKING (SQLite, Argon2id): call it only from a pool
// job. An unknown user costs one Argon2id verification like a known one, so
// timing does not tell which accounts exist; both answer BadCredentials.
//
// AuthCache lets clients that reconnect often (Thunderbird opens several
// connections, phones reconnect on every wake-up) skip Argon2id: an entry is
// keyed by a keyed BLAKE2b hash of (user, password) under a per-process
// random key, never the password itself, and remembers the stored hash it was
// verified against, so a password change (a new stored hash) makes the entry
// useless at once. Entries expire after `ttl`; memory is bounded by
// kMaxEntries. Thread-safe: pool threads share one cache.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/log/secret.h"
#include "storage/directory.h"

namespace postern::store {

class AuthCache {
  public:
    using Clock = std::chrono::steady_clock;
    // A busy server has a few thousand active users; past this the cache is
    // emptied (it is an optimisation, never a correctness matter).
    static constexpr std::size_t kMaxEntries = 10000;

    // ttl 0 disables the cache (config auth.cache_seconds = 0).
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

struct LoginResult {
    enum class Kind { Ok, BadCredentials, Temp } kind = Kind::Temp;
    std::optional<User> user;  // set when Ok
    std::string detail;        // for the log only: "wrong password", an SQLite error...
};

// Looks the user up in directory.db and checks the password, through the
// cache when one is given.
LoginResult verify_login(const std::filesystem::path& directory_db, std::string_view user,
                         const Secret<std::string>& password, AuthCache* cache);

}  // namespace postern::store
