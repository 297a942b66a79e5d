#include "storage/login.h"

#include <sodium.h>

#include "common/base/ascii.h"
#include "storage/password.h"

namespace postern::store {
namespace {

// The hash an unknown user's password is checked against. Made once, on
// first need (C++ makes the static's initialisation thread-safe).
const std::string& dummy_hash() {
    static const std::string hash = [] {
        auto h = hash_password(Secret<std::string>(std::string("postern-dummy")),
                               PasswordParams::interactive());
        return h ? *h : std::string();
    }();
    return hash;
}

void spend_one_verification(const Secret<std::string>& password) {
    if (!dummy_hash().empty()) (void)verify_password(dummy_hash(), password);
}

}  // namespace

AuthCache::AuthCache(std::chrono::seconds ttl) : ttl_(ttl) {
    if (sodium_init() < 0) ttl_ = std::chrono::seconds{0};  // no randomness: no cache
    randombytes_buf(secret_key_.data(), secret_key_.size());
}

std::string AuthCache::key_of(std::string_view user, const Secret<std::string>& password) const {
    const std::string lowered = ascii_lowercase(user);
    crypto_generichash_state state;
    crypto_generichash_init(&state, secret_key_.data(), secret_key_.size(), 32);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(lowered.data()),
                              lowered.size());
    const unsigned char separator = 0;
    crypto_generichash_update(&state, &separator, 1);
    const std::string& pw = password.reveal();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(pw.data()), pw.size());
    std::string out(32, '\0');
    crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
    return out;
}

bool AuthCache::hit(std::string_view user, const Secret<std::string>& password,
                    std::string_view stored_hash) {
    if (!enabled()) return false;
    const std::string key = key_of(user, password);
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
    const std::string key = key_of(user, password);
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[key] = Entry{std::string(stored_hash), Clock::now() + ttl_};
}

LoginResult verify_login(const std::filesystem::path& directory_db, std::string_view user,
                         const Secret<std::string>& password, AuthCache* cache) {
    using Kind = LoginResult::Kind;
    if (password.reveal().size() > kMaxPasswordBytes)
        return {Kind::BadCredentials, {}, "password too long"};
    auto dir = Directory::open(directory_db);
    if (!dir) return {Kind::Temp, {}, dir.error().detail};
    auto found = dir->find_user(user);
    if (!found) {
        const auto code = found.error().code;
        if (code != StoreError::NotFound && code != StoreError::Invalid)
            return {Kind::Temp, {}, found.error().detail};
        spend_one_verification(password);
        return {Kind::BadCredentials, {}, "no such user"};
    }
    const std::string& hash = found->password_hash;
    const std::string canonical = found->address();
    if (cache != nullptr && cache->hit(canonical, password, hash))
        return {Kind::Ok, std::move(*found), "cached"};
    if (!verify_password(hash, password)) return {Kind::BadCredentials, {}, "wrong password"};
    if (cache != nullptr) cache->remember(canonical, password, hash);
    return {Kind::Ok, std::move(*found), {}};
}

}  // namespace postern::store
