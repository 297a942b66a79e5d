// Password hashing with Argon2id (libsodium crypto_pwhash_str).
//
// The hash string is self-describing ("$argon2id$v=19$m=...,t=...,p=1$...")
// so the cost can be raised later: verify() works with any stored
// parameters, and needs_rehash() says when a hash is weaker than the current
// policy, so the caller can re-hash after a successful login.
// Verification is constant-time in the password (libsodium's own compare).
// These calls are slow by design: run them on the libuv pool, never the loop.
#pragma once

#include <cstddef>
#include <string>

#include "common/log/secret.h"
#include "storage/store_error.h"

namespace postern::store {

struct PasswordParams {
    // libsodium's INTERACTIVE preset: 2 passes over 64 MiB, about 0.1 s on
    // one core of a small VPS. On a 2-core box a login storm is bounded by the
    // daemon's verification cache (DESIGN.md "Auth"), not by this cost.
    unsigned long long opslimit = 2;
    std::size_t memlimit_bytes = 64u << 20;

    static PasswordParams interactive();
    // The cheapest parameters libsodium accepts: for tests only.
    static PasswordParams minimum_for_test();
};

// Upper bound on a password we are willing to hash: longer is hostile input.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Invalid for an empty or too-long password; Temp if libsodium fails (out of memory).
StoreResult<std::string> hash_password(const Secret<std::string>& password,
                                       const PasswordParams& params);

// false for a wrong password and for a malformed hash alike.
bool verify_password(const std::string& hash, const Secret<std::string>& password);

// true if hash uses other (weaker or unknown) parameters than params.
bool needs_rehash(const std::string& hash, const PasswordParams& params);

}  // namespace postern::store
