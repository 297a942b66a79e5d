#include "smtpd/smtp_auth.h"

#include <sodium.h>

#include "common/base/ascii.h"
#include "storage/directory.h"
#include "storage/password.h"

namespace postern::smtp {
namespace {

// A hash to verify against when the user does not exist, so that an
// unknown name costs the same Argon2id time as a wrong password and login
// timing does not enumerate users. Made once, on first need.
const std::string& dummy_hash() {
    static const std::string hash = [] {
        auto h = store::hash_password(Secret<std::string>(std::string("postern-dummy")),
                                      store::PasswordParams::interactive());
        return h ? *h : std::string();
    }();
    return hash;
}

}  // namespace

AuthCache::AuthCache(std::chrono::seconds ttl) : ttl_(ttl) {
    if (sodium_init() < 0) ttl_ = std::chrono::seconds{0};  // no randomness: no cache
    randombytes_buf(secret_key_.data(), secret_key_.size());
}

std::string AuthCache::key_of(std::string_view user, const Secret<std::string>& password) const {
    std::string lowered = ascii_lowercase(user);
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

LoginResult verify_login(const std::filesystem::path& directory_db, std::string_view user,
                         const Secret<std::string>& password, AuthCache* cache) {
    using Kind = LoginResult::Kind;
    if (password.reveal().size() > store::kMaxPasswordBytes) return {Kind::Bad, {}, {}};
    auto dir = store::Directory::open(directory_db);
    if (!dir) return {Kind::Temp, {}, dir.error().detail};
    auto found = dir->find_user(user);
    if (!found) {
        auto code = found.error().code;
        if (code == store::StoreError::NotFound || code == store::StoreError::Invalid) {
            (void)store::verify_password(dummy_hash(), password);
            return {Kind::Bad, {}, {}};
        }
        return {Kind::Temp, {}, found.error().detail};
    }
    const std::string& hash = found->password_hash;
    if (cache != nullptr && cache->hit(user, password, hash))
        return {Kind::Ok, found->address(), {}};
    if (!store::verify_password(hash, password)) return {Kind::Bad, {}, {}};
    if (cache != nullptr) cache->remember(user, password, hash);
    return {Kind::Ok, found->address(), {}};
}

}  // namespace postern::smtp
