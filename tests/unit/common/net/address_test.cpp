#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/net/address.h"

namespace postern::net {
namespace {

TEST_CASE("address: parse and format") {
    struct Row {
        const char* input;
        bool ok;
        const char* formatted;
        const char* peer;
        bool loopback;
    };
    const std::vector<Row> rows = {
        {"127.0.0.1:25", true, "127.0.0.1:25", "[127.0.0.1]:25", true},
        {"192.0.2.7:51234", true, "192.0.2.7:51234", "[192.0.2.7]:51234", false},
        {"[::1]:25", true, "[::1]:25", "[::1]:25", true},
        {"[2001:db8::1]:587", true, "[2001:db8::1]:587", "[2001:db8::1]:587", false},
        {"[::ffff:192.0.2.7]:25", true, "192.0.2.7:25", "[192.0.2.7]:25", false},
        {"::1:25", false, "", "", false},
        {"127.0.0.1", false, "", "", false},
        {"127.0.0.1:65536", false, "", "", false},
        {"127.0.0.1:x", false, "", "", false},
        {"[::1]25", false, "", "", false},
        {"localhost:25", false, "", "", false},  // not numeric: needs resolve()
    };
    for (const auto& row : rows) {
        std::string input = row.input;
        CAPTURE(input);
        auto a = Address::parse(row.input);
        REQUIRE_MESSAGE(a.ok() == row.ok, "got ok=" << a.ok() << ", want " << row.ok);
        if (!row.ok) continue;
        CHECK_MESSAGE(a->to_string() == row.formatted,
                      "got " << a->to_string() << ", want " << row.formatted);
        CHECK_MESSAGE(a->peer_string() == row.peer,
                      "got " << a->peer_string() << ", want " << row.peer);
        CHECK(a->is_loopback() == row.loopback);
    }
}

TEST_CASE("address: resolve localhost and the wildcard") {
    auto ep = parse_endpoint("localhost:2525");
    REQUIRE(ep.ok());
    CHECK(ep->host == "localhost");
    CHECK(ep->port == 2525);
    auto addrs = resolve(*ep);
    REQUIRE(addrs.ok());
    REQUIRE(!addrs->empty());
    for (const auto& a : *addrs) {
        CHECK(a.is_loopback());
        CHECK(a.port() == 2525);
    }
    auto any = resolve(*parse_endpoint("*:25"));
    REQUIRE(any.ok());
    CHECK(any->size() == 2);
}

}  // namespace
}  // namespace postern::net
