#include <doctest/doctest.h>

#include <string>

#include "common/log/log.h"
#include "common/net/peer_tracker.h"

namespace postern::net {
namespace {

using namespace std::chrono_literals;

TEST_CASE("peer_tracker: per-IP connection cap") {
    PeerTracker t;
    CHECK(t.try_connect("192.0.2.7", 2));
    CHECK(t.try_connect("192.0.2.7", 2));
    CHECK_FALSE(t.try_connect("192.0.2.7", 2));
    CHECK(t.try_connect("192.0.2.8", 2));
    CHECK(t.total_connections() == 3);
    t.disconnect("192.0.2.7");
    CHECK(t.connections("192.0.2.7") == 1);
    CHECK(t.try_connect("192.0.2.7", 2));
}

TEST_CASE("peer_tracker: failed auth raises the delay, then blocks, then expires") {
    auto now = PeerTracker::Clock::time_point{} + 1h;
    ThrottlePolicy policy{.max_failures = 4,
                          .max_failures_per_user = 4,
                          .window = 600s,
                          .base_delay = 1000ms,
                          .max_delay = 3000ms};
    PeerTracker t(policy, [&] { return now; });
    std::string logs;
    log::capture_for_test(&logs);

    CHECK(t.delay_for("192.0.2.7", "bob") == 0ms);
    t.record_failure("192.0.2.7", "bob smith");
    CHECK(logs.find("auth-failed rip=192.0.2.7 user=\"bob smith\"") != std::string::npos);
    CHECK(t.delay_for("192.0.2.7", "other") == 1000ms);
    t.record_failure("192.0.2.7", "bob smith");
    CHECK(t.delay_for("192.0.2.7", "") == 2000ms);
    t.record_failure("192.0.2.7", "bob smith");
    CHECK_MESSAGE(t.delay_for("192.0.2.7", "") == 3000ms, "delay must be capped at max_delay");
    CHECK_FALSE(t.blocked("192.0.2.7", ""));
    t.record_failure("192.0.2.7", "bob smith");
    CHECK(t.blocked("192.0.2.7", ""));
    // The user is blocked from any address too.
    CHECK(t.blocked("198.51.100.1", "bob smith"));
    CHECK_FALSE(t.blocked("198.51.100.1", "alice"));

    // Success clears the user, not the IP.
    t.record_success("192.0.2.7", "bob smith");
    CHECK_FALSE(t.blocked("198.51.100.1", "bob smith"));
    CHECK(t.blocked("192.0.2.7", "bob smith"));

    now += 601s;
    CHECK_FALSE(t.blocked("192.0.2.7", "bob smith"));
    CHECK(t.delay_for("192.0.2.7", "bob smith") == 0ms);
    log::capture_for_test(nullptr);
}

TEST_CASE("peer_tracker: a password spray from many addresses blocks the user") {
    ThrottlePolicy policy{.max_failures = 10, .max_failures_per_user = 2};
    PeerTracker t(policy);
    std::string logs;
    log::capture_for_test(&logs);
    t.record_failure("192.0.2.1", "carol");
    CHECK_FALSE(t.blocked("192.0.2.2", "carol"));
    t.record_failure("192.0.2.2", "carol");
    CHECK_MESSAGE(t.blocked("192.0.2.3", "carol"), "got not blocked, want blocked after 2");
    CHECK_FALSE(t.blocked("192.0.2.3", "dave"));
    CHECK_FALSE(t.blocked("192.0.2.1", ""));
    log::capture_for_test(nullptr);
}

}  // namespace
}  // namespace postern::net
