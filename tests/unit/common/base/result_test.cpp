#include "common/base/result.h"

#include <doctest/doctest.h>

namespace postern {
namespace {

Result<int> parse_digit(char c) {
    if (c < '0' || c > '9') return fail(std::string("not a digit: ") + c);
    return c - '0';
}

enum class Code { A, B };

Result<std::string, Code> coded(bool good) {
    if (!good) return fail(Code::B);
    return std::string("yes");
}

Status check(bool good) {
    if (!good) return fail("bad");
    return {};
}

}  // namespace

TEST_CASE("Result holds a value or an error") {
    auto good = parse_digit('7');
    REQUIRE(good.ok());
    CHECK(*good == 7);
    auto bad = parse_digit('x');
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "not a digit: x");
}

TEST_CASE("Result with a custom error type") {
    CHECK(coded(true).value() == "yes");
    CHECK(coded(false).error() == Code::B);
}

TEST_CASE("Status is Result<void>") {
    CHECK(check(true).ok());
    CHECK(check(false).error().message == "bad");
}

}  // namespace postern
