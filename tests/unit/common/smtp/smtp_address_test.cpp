#include "common/smtp/smtp_address.h"
#include "common/smtp/smtp_utf8.h"

#include <doctest/doctest.h>

#include <ostream>
#include <string>

namespace postern::smtp {
namespace {

constexpr auto F = PathRole::Forward;
constexpr auto R = PathRole::Reverse;

struct Row {
    std::string input;
    PathRole role = PathRole::Forward;
    bool allow_utf8 = false;
    int code = 0;  // 0: must parse; else the expected reply code
    std::string enhanced = {};
    std::string local = {};
    std::string domain = {};
    DomainKind kind = DomainKind::Name;
    std::string address = {};  // expected Path::address(); defaults to local@domain
    bool null = false;
    bool postmaster = false;
    bool quoted = false;
    bool route = false;
    bool percent = false;
    bool bang = false;
    bool quoted_at = false;
    bool utf8 = false;
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
    return os << "input=\"" << row.input << "\" role=" << (row.role == R ? "reverse" : "forward")
              << " utf8=" << row.allow_utf8;
}

const std::string k64(64, 'a');
const std::string k63label(63, 'b');
// 4 labels of 63 + 3 dots = 255 octets: the longest legal domain.
const std::string k255domain = k63label + "." + k63label + "." + k63label + "." + k63label;

const Row kRows[] = {
    // Plain mailboxes.
    {.input = "<a@b>", .local = "a", .domain = "b"},
    {.input = "<User.Name+tag@Example.ORG>",
     .local = "User.Name+tag",
     .domain = "example.org",
     .address = "User.Name+tag@example.org"},
    {.input = "<x!#$&'*+-/=?^_`{|}~y@e.com>",
     .local = "x!#$&'*+-/=?^_`{|}~y",
     .domain = "e.com",
     .bang = true},
    {.input = "<a@sub-dom.x1.example>", .local = "a", .domain = "sub-dom.x1.example"},
    {.input = "<a@1.2.3.4>", .local = "a", .domain = "1.2.3.4"},  // a Domain of digits
    // Null path and Postmaster.
    {.input = "<>", .role = R, .local = "", .domain = "", .kind = DomainKind::None, .null = true},
    {.input = "<>", .role = F, .code = 501, .enhanced = "5.1.3"},
    {.input = "<Postmaster>",
     .local = "Postmaster",
     .kind = DomainKind::None,
     .address = "Postmaster",
     .postmaster = true},
    {.input = "<postMASTER>",
     .local = "postMASTER",
     .kind = DomainKind::None,
     .address = "postMASTER",
     .postmaster = true},
    {.input = "<Postmaster>", .role = R, .code = 501, .enhanced = "5.1.7"},
    {.input = "<Postmaster@Example.com>", .local = "Postmaster", .domain = "example.com"},
    // Quoted local parts.
    {.input = "<\"john doe\"@x.org>",
     .local = "john doe",
     .domain = "x.org",
     .address = "\"john doe\"@x.org",
     .quoted = true},
    {.input = "<\"plain\"@x.org>",
     .local = "plain",
     .domain = "x.org",
     .address = "plain@x.org",
     .quoted = true},
    {.input = "<\"a\\\"b\\\\c\"@x>",
     .local = "a\"b\\c",
     .domain = "x",
     .address = "\"a\\\"b\\\\c\"@x",
     .quoted = true},
    {.input = "<\"evil@other.org\"@local.org>",
     .local = "evil@other.org",
     .domain = "local.org",
     .address = "\"evil@other.org\"@local.org",
     .quoted = true,
     .quoted_at = true},
    {.input = "<\"\"@x>", .local = "", .domain = "x", .address = "\"\"@x", .quoted = true},
    {.input = "<\"a\tb\"@x>", .code = 501},     // HT is not qtextSMTP
    {.input = "<\"abc@x>", .code = 501},        // unterminated
    {.input = "<\"a\\\x01\"@x>", .code = 501},  // quoted-pair of a control byte
    // Relay tricks are reported, not refused.
    {.input = "<user%other.org@local.org>",
     .local = "user%other.org",
     .domain = "local.org",
     .percent = true},
    {.input = "<other.org!user@local.org>",
     .local = "other.org!user",
     .domain = "local.org",
     .bang = true},
    {.input = "<\"u%v\"@x>",
     .local = "u%v",
     .domain = "x",
     .address = "u%v@x",
     .quoted = true,
     .percent = true},
    // Source routes: accepted, route dropped, presence exposed (§4.1.1.3).
    {.input = "<@a.org,@b.org:user@c.org>", .local = "user", .domain = "c.org", .route = true},
    {.input = "<@a.org:user@c.org>", .role = R, .local = "user", .domain = "c.org", .route = true},
    {.input = "<@a.org,user@c.org>", .code = 501},
    {.input = "<@:user@c.org>", .code = 501},
    {.input = "<@a.org,:user@c.org>", .code = 501},
    // Address literals.
    {.input = "<a@[192.0.2.1]>",
     .local = "a",
     .domain = "[192.0.2.1]",
     .kind = DomainKind::Ipv4Literal},
    {.input = "<a@[255.255.255.255]>",
     .local = "a",
     .domain = "[255.255.255.255]",
     .kind = DomainKind::Ipv4Literal},
    {.input = "<a@[256.0.0.1]>", .code = 501},
    {.input = "<a@[1.2.3]>", .code = 501},
    {.input = "<a@[1.2.3.4.5]>", .code = 501},
    {.input = "<a@[1.2.3.0004]>", .code = 501},
    {.input = "<a@[IPv6:2001:DB8::1]>",
     .local = "a",
     .domain = "[IPv6:2001:db8::1]",
     .kind = DomainKind::Ipv6Literal},
    {.input = "<a@[ipv6:::ffff:192.0.2.1]>",
     .local = "a",
     .domain = "[IPv6:::ffff:192.0.2.1]",
     .kind = DomainKind::Ipv6Literal},
    {.input = "<a@[IPv6:2001:db8::1%eth0]>", .code = 501},
    {.input = "<a@[IPv6:2001:db8:::1]>", .code = 501},
    {.input = "<a@[2001:db8::1]>", .code = 501},
    {.input = "<a@[x-tag:stuff]>", .code = 501},  // General-address-literal
    {.input = "<a@[192.0.2.1>", .code = 501},
    // Syntax errors.
    {.input = "a@b", .code = 501},
    {.input = "<a@b", .code = 501},
    {.input = "<a@b> ", .code = 501},
    {.input = "<a@b>>", .code = 501},
    {.input = "<a>", .code = 501},
    {.input = "<@b>", .code = 501},
    {.input = "<a@>", .code = 501},
    {.input = "<a b@c>", .code = 501},
    {.input = "<.a@b>", .code = 501},
    {.input = "<a.@b>", .code = 501},
    {.input = "<a..b@c>", .code = 501},
    {.input = "<a@b..c>", .code = 501},
    {.input = "<a@.b>", .code = 501},
    {.input = "<a@b.>", .code = 501},
    {.input = "<a@-b.c>", .code = 501},
    {.input = "<a@b-.c>", .code = 501},
    {.input = "<a@b_c.d>", .code = 501},
    {.input = "<a@b@c>", .code = 501},
    {.input = "<a(comment)@b>", .code = 501},
    {.input = "<a@b>", .role = R, .local = "a", .domain = "b"},
    {.input = "<a@b\x01>", .role = R, .code = 501, .enhanced = "5.1.7"},
    // Length limits (RFC 5321 §4.5.3.1).
    {.input = "<" + k64 + "@x>", .local = k64, .domain = "x"},
    {.input = "<" + k64 + "a@x>", .code = 501, .enhanced = "5.1.3"},
    {.input = "<\"" + std::string(62, 'q') + "\"@x>",
     .local = std::string(62, 'q'),
     .domain = "x",
     .address = std::string(62, 'q') + "@x",
     .quoted = true},
    {.input = "<\"" + std::string(63, 'q') + "\"@x>", .code = 501},
    {.input = "<a@" + k63label + ".x>", .local = "a", .domain = k63label + ".x"},
    {.input = "<a@" + k63label + "b.x>", .code = 501},
    // 255-octet domain: path is 1+1+1+255+1 = 259 > 256, so it fails as a path.
    {.input = "<a@" + k255domain + ">", .code = 501},
    {.input = "<a@" + k255domain.substr(3) + ">", .local = "a", .domain = k255domain.substr(3)},
    {.input = "<a@" + k255domain + ".c>", .code = 501},
    // SMTPUTF8 (RFC 6531): only when allowed; always well-formed.
    {.input = "<j\xc3\xb6rg@b\xc3\xbc\x63her.de>",
     .allow_utf8 = true,
     .local = "j\xc3\xb6rg",
     .domain = "b\xc3\xbc\x63her.de",
     .utf8 = true},
    {.input = "<j\xc3\xb6rg@x.de>", .code = 553, .enhanced = "5.6.7"},
    {.input = "<a@b\xc3\xbc\x63her.de>", .code = 553, .enhanced = "5.6.7"},
    {.input = "<\"j\xc3\xb6 rg\"@x>",
     .allow_utf8 = true,
     .local = "j\xc3\xb6 rg",
     .domain = "x",
     .address = "\"j\xc3\xb6 rg\"@x",
     .quoted = true,
     .utf8 = true},
    {.input = "<\xc3\xb6@x>", .role = R, .code = 553, .enhanced = "5.6.7"},
    {.input = "<\xc0\xaf@x>", .allow_utf8 = true, .code = 501},          // overlong '/'
    {.input = "<\xed\xa0\x80@x>", .allow_utf8 = true, .code = 501},      // surrogate
    {.input = "<\xe0\x80\xaf@x>", .allow_utf8 = true, .code = 501},      // overlong 3-byte
    {.input = "<\xc3@x>", .allow_utf8 = true, .code = 501},              // truncated
    {.input = "<\xf4\x90\x80\x80@x>", .allow_utf8 = true, .code = 501},  // > U+10FFFF
    {.input = "<a@[IPv6:\xc3\xb6]>", .allow_utf8 = true, .code = 501},
};

void check_row(const Row& row) {
    CAPTURE(row);
    auto got = parse_path(row.input, {.role = row.role, .allow_utf8 = row.allow_utf8});
    if (row.code != 0) {
        REQUIRE_MESSAGE(!got.ok(), "got a path (", got.ok() ? got->address() : "", "), want ",
                        row.code);
        CHECK_MESSAGE(got.error().code == row.code, "got ", got.error().code, ", want ", row.code);
        if (!row.enhanced.empty()) CHECK(got.error().enhanced == row.enhanced);
        CHECK(got.error().text.find('\n') == std::string::npos);
        return;
    }
    REQUIRE_MESSAGE(got.ok(), "got error ", got.ok() ? 0 : got.error().code, " ",
                    got.ok() ? "" : got.error().text, ", want a path");
    const Path& p = *got;
    CHECK_MESSAGE(p.local_part == row.local, "got local '", p.local_part, "', want '", row.local,
                  "'");
    CHECK_MESSAGE(p.domain == row.domain, "got domain '", p.domain, "', want '", row.domain, "'");
    CHECK(p.domain_kind == (row.null ? DomainKind::None : row.kind));
    const std::string want_address =
        !row.address.empty() ? row.address : (row.null ? "" : row.local + "@" + row.domain);
    CHECK_MESSAGE(p.address() == want_address, "got address '", p.address(), "', want '",
                  want_address, "'");
    CHECK(p.is_null == row.null);
    CHECK(p.is_postmaster == row.postmaster);
    CHECK(p.quoted_local_part == row.quoted);
    CHECK(p.had_source_route == row.route);
    CHECK(p.percent_hack == row.percent);
    CHECK(p.bang_path == row.bang);
    CHECK(p.quoted_at == row.quoted_at);
    CHECK(p.utf8 == row.utf8);
    CHECK(p.is_address_literal() ==
          (row.kind == DomainKind::Ipv4Literal || row.kind == DomainKind::Ipv6Literal));
}

TEST_CASE("parse_path: valid and invalid paths") {
    for (const Row& row : kRows)
        check_row(row);
}

TEST_CASE("parse_path_prefix stops after '>' so parameters can follow") {
    auto got = parse_path_prefix("<\"a> b\"@x> SIZE=1", {.role = PathRole::Reverse});
    REQUIRE(got.ok());
    CHECK_MESSAGE(got->consumed == 10, "got ", got->consumed, ", want 10");
    CHECK(got->path.local_part == "a> b");
}

TEST_CASE("path length limit counts the route and brackets (RFC 5321 §4.5.3.1.3)") {
    // "<@" + route + ":" + "a@b" + ">": build exactly 256 and 257 octets.
    const auto make = [](std::size_t total) {
        const std::size_t route_len = total - std::string("<@:a@b>").size();
        std::string route;
        while (route.size() < route_len) {
            const std::size_t left = route_len - route.size();
            const std::size_t take = left > 60 ? 60 : left;
            if (!route.empty()) route += '.';
            route += std::string(route.empty() ? take : take - 1, 'r');
        }
        return "<@" + route + ":a@b>";
    };
    const std::string ok = make(256);
    const std::string bad = make(257);
    REQUIRE(ok.size() == 256);
    REQUIRE(bad.size() == 257);
    CHECK(parse_path(ok, {}).ok());
    auto got = parse_path(bad, {});
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().text == "Path too long");
}

TEST_CASE("parse_mailbox parses an address without brackets") {
    auto got = parse_mailbox("Joe@Example.Org", false);
    REQUIRE(got.ok());
    CHECK(got->address() == "Joe@example.org");
    CHECK_FALSE(parse_mailbox("<joe@example.org>", false).ok());
    CHECK_FALSE(parse_mailbox("joe@example.org ", false).ok());
    CHECK(parse_mailbox("j\xc3\xb6@x", true).ok());
    CHECK_FALSE(parse_mailbox("j\xc3\xb6@x", false).ok());
}

TEST_CASE("utf8_sequence_length (RFC 3629 §4)") {
    struct U {
        std::string bytes;
        std::size_t want;
    };
    const U rows[] = {
        {"\xc2\x80", 2},
        {"\xdf\xbf", 2},
        {"\xc1\xbf", 0},  // overlong
        {"\xe0\xa0\x80", 3},
        {"\xe0\x9f\xbf", 0},
        {"\xed\x9f\xbf", 3},
        {"\xed\xa0\x80", 0},
        {"\xef\xbf\xbf", 3},
        {"\xf0\x90\x80\x80", 4},
        {"\xf0\x8f\xbf\xbf", 0},
        {"\xf4\x8f\xbf\xbf", 4},
        {"\xf4\x90\x80\x80", 0},
        {"\xf5\x80\x80\x80", 0},
        {"\xe2\x82", 0},
        {"\x80", 0},
        {"a", 0},
        {"\xe2\x28\xa1", 0},
    };
    for (const U& row : rows) {
        CAPTURE(row.bytes);
        const std::size_t got = utf8_sequence_length(row.bytes);
        CHECK_MESSAGE(got == row.want, "got ", got, ", want ", row.want);
    }
}

TEST_CASE("normalize_domain lowercases ASCII only") {
    CHECK(normalize_domain("MX.Example.ORG") == "mx.example.org");
    CHECK(normalize_domain("\xc3\x84.DE") == "\xc3\x84.de");
}

}  // namespace
}  // namespace postern::smtp
