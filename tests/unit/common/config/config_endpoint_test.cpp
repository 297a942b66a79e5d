#include <doctest/doctest.h>

#include "common/config/schema.h"

namespace postern::config {
namespace {

struct EndpointRow {
    std::string text;
    bool allow_names;
    std::string want_host;  // empty: want an error containing want_error
    std::uint16_t want_port;
    std::string want_error;
};

}  // namespace

TEST_CASE("parse_endpoint accepts literals and localhost, with a port") {
    const EndpointRow rows[] = {
        {"127.0.0.1:25", false, "127.0.0.1", 25, ""},
        {"0.0.0.0:65535", false, "0.0.0.0", 65535, ""},
        {"[::1]:143", false, "::1", 143, ""},
        {"[::]:1", false, "::", 1, ""},
        {"[2001:db8::7]:587", false, "2001:db8::7", 587, ""},
        {"localhost:2525", false, "localhost", 2525, ""},
        {"smtp.example.net:587", true, "smtp.example.net", 587, ""},
        {"[::1]:25", true, "::1", 25, ""},
        {"1.2.3.4", false, "", 0, "missing :port"},
        {"1.2.3.4:", false, "", 0, "port must be a number"},
        {"300.1.1.1:25", false, "", 0, "host must be an IPv4 address"},
        {"[::1]:0", false, "", 0, "port must be between 1 and 65535, got 0"},
        {"[::1]:65536", false, "", 0, "port must be between 1 and 65535, got 65536"},
        {"1.2.3.4:+25", false, "", 0, "port must be a number"},
        {"1.2.3.4:25x", false, "", 0, "port must be a number"},
        {"1.2.3.4:0000025", false, "", 0, "port must be a number"},
        {"::1:25", false, "", 0, "must be written in brackets"},
        {"[::1:25", false, "", 0, "missing ']'"},
        {"[::1]", false, "", 0, "missing :port"},
        {"[1.2.3.4]:25", false, "", 0, "not an IPv6 address"},
        {"mx.example.net:25", false, "", 0, "host must be an IPv4 address"},
        {"-bad-.example:25", true, "", 0, "domain name"},
        {":25", false, "", 0, "host must be"},
        {"", false, "", 0, "missing :port"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        auto got = parse_endpoint(row.text, row.allow_names);
        if (row.want_host.empty()) {
            REQUIRE_MESSAGE(!got.ok(), "got ", got->to_string(), ", want an error");
            CHECK_MESSAGE(got.error().message.find(row.want_error) != std::string::npos, "got \"",
                          got.error().message, "\", want it to contain \"", row.want_error, "\"");
            continue;
        }
        REQUIRE_MESSAGE(got.ok(), "got error ", got.error().message);
        CHECK(got->host == row.want_host);
        CHECK(got->port == row.want_port);
        // to_string() gives back text that parses to the same endpoint.
        auto again = parse_endpoint(got->to_string(), row.allow_names);
        REQUIRE(again.ok());
        CHECK(*again == *got);
    }
}

TEST_CASE("is_dns_name") {
    CHECK(is_dns_name("mx.example.net"));
    CHECK(is_dns_name("localhost"));
    CHECK(is_dns_name("a-b.c9"));
    CHECK_FALSE(is_dns_name(""));
    CHECK_FALSE(is_dns_name("a..b"));
    CHECK_FALSE(is_dns_name(".a"));
    CHECK_FALSE(is_dns_name("a."));
    CHECK_FALSE(is_dns_name("-a.b"));
    CHECK_FALSE(is_dns_name("a-.b"));
    CHECK_FALSE(is_dns_name("a_b.c"));
    CHECK_FALSE(is_dns_name(std::string(64, 'a') + ".b"));
    CHECK(is_dns_name(std::string(63, 'a') + ".b"));
}

}  // namespace postern::config
