// See pop3_auth_cache.h.
#include "pop3d/pop3_auth_cache.h"

#include <sodium.h>

namespace postern::pop3 {

AuthCache::AuthCache(std::chrono::seconds ttl) : ttl_(ttl) {
    // sodium_init() is idempotent; without it randombytes may not be seeded.
    if (sodium_init() < 0) ttl_ = std::chrono::seconds{0};
    randombytes_buf(secret_key_.data(), secret_key_.size());
}

std::string AuthCache::key_of(std::string_view user, const Secret<std::string>& password) const {
    crypto_generichash_state state;
    crypto_generichash_init(&state, secret_key_.data(), secret_key_.size(), 32);
    const auto* u = reinterpret_cast<const unsigned char*>(user.data());
    crypto_generichash_update(&state, u, user.size());
    const unsigned char nul = 0;  // separates the fields: ("ab","c") != ("a","bc")
    crypto_generichash_update(&state, &nul, 1);
    const auto& p = password.reveal();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(p.data()), p.size());
    std::string out(32, '\0');
    crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
    return out;
}

bool AuthCache::hit(std::string_view user, const Secret<std::string>& password,
                    std::string_view stored_hash) {
    if (!enabled()) return false;
    std::string key = key_of(user, password);
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    if (it->second.expires <= Clock::now() || it->second.stored_hash != stored_hash) {
        entries_.erase(it);
        return false;
    }
    return true;
}

void AuthCache::remember(std::string_view user, const Secret<std::string>& password,
                         std::string_view stored_hash) {
    if (!enabled()) return;
    std::string key = key_of(user, password);
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[key] = Entry{std::string(stored_hash), Clock::now() + ttl_};
}

}  // namespace postern::pop3
