// AuthCache: a remembered success skips Argon2id only for the same user,
// the same password and the same stored hash (a password change misses).
#include <doctest/doctest.h>

#include "storage/login.h"

namespace postern::store {
namespace {

using namespace std::chrono_literals;

TEST_CASE("auth cache: hits only for the same user, password and stored hash") {
    AuthCache cache(60s);
    Secret<std::string> pw(std::string("correct horse battery"));
    CHECK_FALSE(cache.hit("alice@example.test", pw, "$argon2id$old"));
    cache.remember("alice@example.test", pw, "$argon2id$old");
    CHECK_MESSAGE(cache.hit("alice@example.test", pw, "$argon2id$old"), "got miss, want hit");
    CHECK_MESSAGE(cache.hit("ALICE@example.test", pw, "$argon2id$old"),
                  "the address in capitals: got miss, want hit");
    CHECK_MESSAGE(!cache.hit("alice@example.test", Secret<std::string>(std::string("wrong")),
                             "$argon2id$old"),
                  "another password: got hit, want miss");
    CHECK_MESSAGE(!cache.hit("bob@example.test", pw, "$argon2id$old"),
                  "another user: got hit, want miss");
    CHECK_MESSAGE(!cache.hit("alice@example.test", pw, "$argon2id$new"),
                  "after a password change: got hit, want miss");
    // The field separator: ("alice@example.tes", "tcorrect...") is another pair.
    CHECK(!cache.hit("alice@example.tes",
                     Secret<std::string>(std::string("tcorrect horse battery")), "$argon2id$old"));
}

TEST_CASE("auth cache: ttl 0 disables it") {
    AuthCache cache(0s);
    Secret<std::string> pw(std::string("pw"));
    cache.remember("alice@example.test", pw, "h");
    CHECK_MESSAGE(!cache.hit("alice@example.test", pw, "h"), "got hit with ttl 0, want miss");
}

}  // namespace
}  // namespace postern::store
