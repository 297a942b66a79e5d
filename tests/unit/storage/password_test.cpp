#include "storage/password.h"

#include <doctest/doctest.h>

namespace postern::store {
namespace {

Secret<std::string> pw(const char* s) {
    return Secret<std::string>(s);
}

}  // namespace

TEST_CASE("password: hash and verify") {
    auto params = PasswordParams::minimum_for_test();
    auto hash = hash_password(pw("correct horse"), params);
    REQUIRE(hash.ok());
    CHECK_MESSAGE(hash->starts_with("$argon2id$"), "got ", *hash, ", want an $argon2id$ string");
    CHECK(verify_password(*hash, pw("correct horse")));
    CHECK_FALSE(verify_password(*hash, pw("correct horsf")));
    CHECK_FALSE(verify_password(*hash, pw("")));
    CHECK_FALSE(verify_password("", pw("correct horse")));
    CHECK_FALSE(verify_password("$argon2id$garbage", pw("correct horse")));
    // Salted: the same password twice gives two different hashes.
    auto again = hash_password(pw("correct horse"), params);
    REQUIRE(again.ok());
    CHECK(*again != *hash);
}

TEST_CASE("password: bad input is Invalid") {
    auto params = PasswordParams::minimum_for_test();
    auto empty = hash_password(pw(""), params);
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().code == StoreError::Invalid);
    auto huge = hash_password(Secret<std::string>(std::string(kMaxPasswordBytes + 1, 'x')), params);
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.error().code == StoreError::Invalid);
    CHECK(huge.error().detail.find("xxxx") == std::string::npos);
}

TEST_CASE("password: needs_rehash follows the parameters") {
    auto weak = PasswordParams::minimum_for_test();
    auto hash = hash_password(pw("pw"), weak);
    REQUIRE(hash.ok());
    CHECK_FALSE(needs_rehash(*hash, weak));
    PasswordParams stronger = weak;
    stronger.opslimit += 1;
    CHECK(needs_rehash(*hash, stronger));
    CHECK(needs_rehash("not a hash", weak));
    // A hash made with other parameters still verifies: they are in the string.
    auto strong = hash_password(pw("pw"), stronger);
    REQUIRE(strong.ok());
    CHECK(verify_password(*strong, pw("pw")));
}

TEST_CASE("password: interactive preset is libsodium's") {
    auto p = PasswordParams::interactive();
    CHECK(p.opslimit >= 2);
    CHECK(p.memlimit_bytes >= (64u << 20));
}

}  // namespace postern::store
