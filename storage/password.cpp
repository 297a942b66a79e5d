#include "storage/password.h"

#include <sodium.h>

namespace postern::store {
namespace {

// sodium_init() is thread-safe and idempotent, but calling it on every hash
// would be noise; once per process is enough.
bool sodium_ready() {
    static const bool ready = sodium_init() >= 0;
    return ready;
}

}  // namespace

PasswordParams PasswordParams::interactive() {
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordParams PasswordParams::minimum_for_test() {
    return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

StoreResult<std::string> hash_password(const Secret<std::string>& password,
                                       const PasswordParams& params) {
    const std::string& pw = password.reveal();
    if (pw.empty()) return store_fail(StoreError::Invalid, "empty password");
    if (pw.size() > kMaxPasswordBytes) return store_fail(StoreError::Invalid, "password too long");
    if (!sodium_ready()) return store_fail(StoreError::Temp, "sodium_init failed");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, pw.data(), pw.size(), params.opslimit, params.memlimit_bytes,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return store_fail(StoreError::Temp, "crypto_pwhash_str failed (out of memory?)");
    }
    return std::string(out);
}

bool verify_password(const std::string& hash, const Secret<std::string>& password) {
    if (!sodium_ready()) return false;
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    const std::string& pw = password.reveal();
    return crypto_pwhash_str_verify(hash.c_str(), pw.data(), pw.size()) == 0;
}

bool needs_rehash(const std::string& hash, const PasswordParams& params) {
    if (!sodium_ready()) return true;
    if (hash.size() >= crypto_pwhash_STRBYTES) return true;
    // 1: other parameters; -1: not an Argon2id string at all. Both mean rehash.
    return crypto_pwhash_str_needs_rehash(hash.c_str(), params.opslimit, params.memlimit_bytes) !=
           0;
}

}  // namespace postern::store
