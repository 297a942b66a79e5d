// postern::dns against a real dnsmasq on a loopback port (every query
// bounded by ResolverConfig's timeout), plus the answer parser on canned
// packets captured from that dnsmasq.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>

#include "common/dns/dns_answer.h"
#include "common/dns/resolver.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/dns/peer_process.h"

namespace postern::dns {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kRecords = {
    "--mx-host=multi.test,mx-b.multi.test,20",
    "--mx-host=multi.test,mx-a.multi.test,10",
    "--mx-host=multi.test,mx-c.multi.test,30",
    "--host-record=mx-a.multi.test,127.0.0.2",
    "--host-record=mx-b.multi.test,127.0.0.3,::1",
    "--host-record=implicit.test,127.0.0.4",
    "--mx-host=nullmx.test,.,0",
    "--mx-host=ties.test,t1.ties.test,5",
    "--mx-host=ties.test,t2.ties.test,5",
    "--mx-host=ties.test,t3.ties.test,5",
    "--mx-host=ties.test,last.ties.test,9",
    "--host-record=t1.ties.test,127.0.1.1",
    "--host-record=t2.ties.test,127.0.1.2",
    "--host-record=t3.ties.test,127.0.1.3",
    "--host-record=last.ties.test,127.0.1.9",
    "--mx-host=noaddr.test,ghost.noaddr.test,10",
    "--host-record=target.test,127.0.0.5",
    "--cname=alias.test,target.test",
    "--host-record=noaddr-name.test,127.0.0.6",
};

struct Fixture {
    test::TempDir dir;
    test::Dnsmasq dns{dir.path(), kRecords};
    ResolverConfig config() const {
        ResolverConfig c;
        c.nameserver = ResolverConfig::Server{"127.0.0.1", dns.port()};
        c.timeout = 2000ms;
        c.attempts = 1;
        return c;
    }
};

std::string hosts_of(const std::vector<MxRecord>& records) {
    std::string out;
    for (const auto& r : records)
        out += std::to_string(r.preference) + ":" + r.host + " ";
    return out;
}

TEST_CASE("lookup_mx: records sorted by preference, names normalized") {
    Fixture f;
    REQUIRE_MESSAGE(f.dns.ready(), "dnsmasq did not start");
    auto mx = lookup_mx(f.config(), "MULTI.test.");
    REQUIRE_MESSAGE(mx.outcome == Outcome::Found, "got outcome ", int(mx.outcome), " ", mx.error);
    CHECK_MESSAGE(
        hosts_of(mx.records) == "10:mx-a.multi.test 20:mx-b.multi.test 30:mx-c.multi.test ", "got ",
        hosts_of(mx.records));
}

TEST_CASE("lookup_mx: ties are shuffled, lower preference always first") {
    Fixture f;
    REQUIRE(f.dns.ready());
    std::set<std::string> firsts;
    for (int i = 0; i < 30; ++i) {
        auto mx = lookup_mx(f.config(), "ties.test");
        REQUIRE(mx.outcome == Outcome::Found);
        REQUIRE(mx.records.size() == 4);
        CHECK_MESSAGE(mx.records[3].host == "last.ties.test", "got ", hosts_of(mx.records));
        firsts.insert(mx.records[0].host);
    }
    // P(one host first 30 times in a row) = 3 * (1/3)^30: never by chance.
    CHECK_MESSAGE(firsts.size() > 1, "got always ", *firsts.begin(), " first");
}

TEST_CASE("lookup_mx: NXDOMAIN, NODATA, null MX") {
    Fixture f;
    REQUIRE(f.dns.ready());
    CHECK(lookup_mx(f.config(), "nowhere.test").outcome == Outcome::NoDomain);
    CHECK(lookup_mx(f.config(), "implicit.test").outcome == Outcome::NoData);
    auto null = lookup_mx(f.config(), "nullmx.test");
    REQUIRE(null.outcome == Outcome::Found);
    REQUIRE(null.records.size() == 1);
    CHECK(null.records[0].host == "");
    CHECK(null.records[0].preference == 0);
}

TEST_CASE("lookup_addresses: AAAA before A, CNAME followed, numeric IP as is") {
    Fixture f;
    REQUIRE(f.dns.ready());
    auto both = lookup_addresses(f.config(), "mx-b.multi.test");
    REQUIRE_MESSAGE(both.outcome == Outcome::Found, both.error);
    CHECK(both.ips == std::vector<std::string>{"::1", "127.0.0.3"});
    auto alias = lookup_addresses(f.config(), "alias.test");
    REQUIRE_MESSAGE(alias.outcome == Outcome::Found, alias.error);
    CHECK(alias.ips == std::vector<std::string>{"127.0.0.5"});
    CHECK(lookup_addresses(f.config(), "nowhere.test").outcome == Outcome::NoDomain);
    auto literal = lookup_addresses(ResolverConfig{}, "192.0.2.7");
    CHECK(literal.outcome == Outcome::Found);
    CHECK(literal.ips == std::vector<std::string>{"192.0.2.7"});
}

TEST_CASE("route_domain: every kind") {
    Fixture f;
    REQUIRE(f.dns.ready());
    auto multi = route_domain(f.config(), "multi.test");
    REQUIRE_MESSAGE(multi.kind == Route::Kind::Hosts, multi.error);
    REQUIRE(multi.hosts.size() == 3);
    CHECK(multi.hosts[0].ips == std::vector<std::string>{"127.0.0.2"});
    CHECK(multi.hosts[1].ips == std::vector<std::string>{"::1", "127.0.0.3"});
    CHECK(multi.hosts[2].ips.empty());  // mx-c has no address: kept, skipped by the client
    CHECK_FALSE(multi.hosts[2].lookup_failed_temporarily);

    auto implicit = route_domain(f.config(), "implicit.test");
    REQUIRE(implicit.kind == Route::Kind::Hosts);
    REQUIRE(implicit.hosts.size() == 1);
    CHECK(implicit.hosts[0].name == "implicit.test");
    CHECK(implicit.hosts[0].ips == std::vector<std::string>{"127.0.0.4"});

    CHECK(route_domain(f.config(), "nowhere.test").kind == Route::Kind::NoDomain);
    CHECK(route_domain(f.config(), "nullmx.test").kind == Route::Kind::NullMx);
    CHECK(route_domain(f.config(), "noaddr.test").kind == Route::Kind::NoHosts);

    auto v4 = route_domain(ResolverConfig{}, "[192.0.2.1]");
    REQUIRE(v4.kind == Route::Kind::Hosts);
    CHECK(v4.hosts[0].ips == std::vector<std::string>{"192.0.2.1"});
    auto v6 = route_domain(ResolverConfig{}, "[IPv6:2001:db8::1]");
    REQUIRE(v6.kind == Route::Kind::Hosts);
    CHECK(v6.hosts[0].ips == std::vector<std::string>{"2001:db8::1"});
}

TEST_CASE("unreachable nameserver: TempFail within the timeout") {
    // A UDP socket that never answers: the query must time out.
    const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ResolverConfig c;
    c.nameserver = ResolverConfig::Server{"127.0.0.1", ntohs(a.sin_port)};
    c.timeout = 1000ms;
    c.attempts = 2;
    const auto start = std::chrono::steady_clock::now();
    auto mx = lookup_mx(c, "multi.test");
    const auto took = std::chrono::steady_clock::now() - start;
    ::close(silent);
    CHECK(mx.outcome == Outcome::TempFail);
    CHECK_FALSE(mx.error.empty());
    CHECK_MESSAGE(took < 4s, "took ",
                  std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), " ms");
    CHECK(route_domain(c, "multi.test").kind == Route::Kind::TempFail);

    // Nothing bound at all: refused at once, still TempFail.
    c.nameserver->port = test::free_port();
    CHECK(lookup_addresses(c, "x.test").outcome == Outcome::TempFail);
    // Not an IP: reported, not guessed.
    c.nameserver->ip = "dns.example";
    auto bad = lookup_mx(c, "multi.test");
    CHECK(bad.outcome == Outcome::TempFail);
    CHECK(bad.error.find("not a numeric IP") != std::string::npos);
}

TEST_CASE("IPv6 nameserver via _u._ext.nsaddrs") {
    test::TempDir dir;
    const std::uint16_t port = test::free_port();
    test::PeerProcess dns(
        {"/usr/sbin/dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=::1",
         "--bind-interfaces", "--local=/test/", "--user=root",
         "--pid-file=", "--port=" + std::to_string(port), "--mx-host=six.test,mx.six.test,7"},
        dir.path() / "dnsmasq6.log");
    ResolverConfig c;
    c.nameserver = ResolverConfig::Server{"::1", port};
    c.timeout = 1000ms;
    c.attempts = 1;
    MxAnswer mx;
    for (int i = 0; i < 50 && mx.outcome != Outcome::Found; ++i) {  // wait until it listens
        mx = lookup_mx(c, "six.test");
        if (mx.outcome != Outcome::Found) std::this_thread::sleep_for(100ms);
    }
    REQUIRE_MESSAGE(mx.outcome == Outcome::Found, mx.error);
    CHECK(hosts_of(mx.records) == "7:mx.six.test ");
}

// --- canned packets ---

std::vector<unsigned char> from_hex(std::string_view hex) {
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

TEST_CASE("parse_mx_answer: canned null MX and a compressed MX") {
    // dnsmasq's answer for nullmx.test MX: preference 0, exchange "." (RFC 7505).
    auto null = from_hex(
        "04d285800001000100000000066e756c6c6d78047465737400000f0001c00c000f0001000000000003000000");
    auto records = parse_mx_answer(null.data(), null.size(), "nullmx.test");
    REQUIRE(records.ok());
    REQUIRE(records->size() == 1);
    CHECK((*records)[0].host == "");
    // a.test MX 10 mx1.a.test, with a compression pointer in the exchange.
    auto mx = from_hex(
        "04d2858000010001000000010161047465737400000f0001c00c000f000100000000000e000a036d78310161"
        "047465737400c026000100010000000000047f000002");
    records = parse_mx_answer(mx.data(), mx.size(), "A.TEST");
    REQUIRE(records.ok());
    CHECK(hosts_of(*records) == "10:mx1.a.test ");
    // Cut short: an error, not a crash or a partial answer.
    for (std::size_t cut = 12; cut < mx.size(); cut += 7) {
        auto partial = parse_mx_answer(mx.data(), cut, "a.test");
        CHECK_MESSAGE(!partial.ok(), "cut at ", cut, " parsed");
    }
}

TEST_CASE("order_mx: null MX alone is kept, among others dropped; limit") {
    auto lone = order_mx({MxRecord{0, ""}});
    CHECK(lone.size() == 1);
    auto mixed = order_mx({MxRecord{0, ""}, MxRecord{10, "mx.test"}});
    REQUIRE(mixed.size() == 1);
    CHECK(mixed[0].host == "mx.test");
    std::vector<MxRecord> many;
    for (int i = 0; i < 25; ++i)
        many.push_back(MxRecord{static_cast<std::uint16_t>(25 - i), "h" + std::to_string(i)});
    auto limited = order_mx(many);
    CHECK(limited.size() == kMaxMxHosts);
    CHECK(limited.front().preference == 1);
}

}  // namespace
}  // namespace postern::dns
