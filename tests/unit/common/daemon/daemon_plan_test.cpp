// limits_from() and addresses_of(): config values into listener plans.
#include <doctest/doctest.h>

#include "common/daemon/daemon.h"

namespace postern::daemon {
namespace {

TEST_CASE("addresses_of: IPv6 hosts are bracketed, IPv4 and names are not") {
    struct Row {
        config::Endpoint endpoint;
        std::string want;
    };
    const Row rows[] = {
        {.endpoint = {"127.0.0.1", 25}, .want = "127.0.0.1:25"},
        {.endpoint = {"::1", 587}, .want = "[::1]:587"},
        {.endpoint = {"2001:db8::1", 993}, .want = "[2001:db8::1]:993"},
        {.endpoint = {"localhost", 2525}, .want = "localhost:2525"},
    };
    for (const auto& row : rows) {
        auto got = addresses_of({row.endpoint});
        REQUIRE(got.size() == 1);
        CHECK_MESSAGE(got[0] == row.want, "got ", got[0], ", want ", row.want);
    }
    CHECK(addresses_of({}).empty());
}

TEST_CASE("limits_from: the protocol's keys and the connection caps") {
    auto cfg = config::load_text(R"({"connections": {"max_total": 7, "max_per_ip": 3}})", "/");
    REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    auto limits = limits_from(*cfg, 1000, 42, 5);
    CHECK(limits.max_line_bytes == 1000);
    CHECK(limits.idle_timeout == std::chrono::seconds(42));
    CHECK(limits.max_bad_commands == 5);
    CHECK(limits.max_connections_total == 7);
    CHECK(limits.max_connections_per_ip == 3);
}

}  // namespace
}  // namespace postern::daemon
