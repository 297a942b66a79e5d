// The pure parts of the SMTP engine: header scan, trace fields, relay
// spellings, LMTP outcome aggregation and the spool.
#include <doctest/doctest.h>

#include "smtpd/lmtp_client.h"
#include "smtpd/received.h"
#include "smtpd/relay_policy.h"
#include "smtpd/smtp_header_scan.h"
#include "smtpd/smtp_spool.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/trickle.h"

namespace postern::smtp {
namespace {

TEST_CASE("header scan: counts Received and sees Message-ID and Date, whole and trickled") {
    struct Row {
        const char* name;
        std::string message;
        std::size_t received;
        bool message_id;
        bool date;
    };
    const Row rows[] = {
        {"plain", "Received: a\r\nReceived: b\r\n\tfolded\r\nSubject: x\r\n\r\nReceived: body\r\n",
         2, false, false},
        {"case", "MESSAGE-ID: <a@b>\r\ndate : now\r\n\r\n", 0, true, true},
        {"continuation is not a field", "Subject: x\r\n Date: no\r\n\r\n", 0, false, false},
        {"body only after empty line", "\r\nDate: x\r\nMessage-ID: y\r\n", 0, false, false},
        {"bare LF ends lines", "Received: a\nDate: b\n\nMessage-ID: c\n", 1, false, true},
        {"long name", std::string(100, 'x') + ": y\r\nDate: z\r\n\r\n", 0, false, true},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        for (bool bytewise : {false, true}) {
            HeaderScan scan;
            if (bytewise) {
                for (char c : row.message)
                    scan.feed(std::string_view(&c, 1));
            } else {
                scan.feed(row.message);
            }
            CHECK_MESSAGE(scan.received_count() == row.received,
                          "got " << scan.received_count() << ", want " << row.received);
            CHECK(scan.has_message_id() == row.message_id);
            CHECK(scan.has_date() == row.date);
        }
    }
}

TEST_CASE("received: protocol keywords per RFC 3848 and RFC 6531") {
    struct Row {
        bool esmtp, tls, auth, utf8;
        const char* want;
    };
    const Row rows[] = {
        {false, false, false, false, "SMTP"}, {true, false, false, false, "ESMTP"},
        {true, true, false, false, "ESMTPS"}, {true, true, true, false, "ESMTPSA"},
        {true, false, true, false, "ESMTPA"}, {true, true, true, true, "UTF8SMTPSA"},
    };
    for (const auto& row : rows) {
        ReceivedInfo info;
        info.esmtp = row.esmtp;
        info.tls = row.tls;
        info.authenticated = row.auth;
        info.smtputf8 = row.utf8;
        CHECK_MESSAGE(with_protocol(info) == row.want,
                      "got " << with_protocol(info) << ", want " << row.want);
    }
}

TEST_CASE("received: the HELO name cannot break the field") {
    ReceivedInfo info;
    info.helo = "evil)\r\nBcc: x (";
    info.client_ip = "192.0.2.7";
    info.by_host = "mx.test";
    info.program = "smtpd";
    info.tls = true;
    info.tls_description = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    info.id = "abc";
    info.for_recipient = "a@b.test";
    std::string r = format_received(info);
    CHECK_MESSAGE(r == "Received: from evil???Bcc:?x?? ([192.0.2.7])\r\n\tby mx.test (Postern "
                       "smtpd) with ESMTPS id abc\r\n\t(using TLSv1.3 TLS_AES_256_GCM_SHA384)\r\n"
                       "\tfor <a@b.test>;\r\n\tThu, 01 Jan 1970 00:00:00 +0000\r\n",
                  "got " << r);
}

TEST_CASE("received: date and Message-ID forms") {
    CHECK(rfc5322_date(1700000000) == "Tue, 14 Nov 2023 22:13:20 +0000");
    std::string a = make_message_id("mx.test", 1);
    std::string b = make_message_id("mx.test", 1);
    CHECK(a != b);
    CHECK(a.front() == '<');
    CHECK(a.find("@mx.test>") != std::string::npos);
}

TEST_CASE("relay policy: spellings that could route elsewhere") {
    struct Row {
        const char* path;
        bool relay;
    };
    const Row rows[] = {
        {"<a@example.test>", false},       {"<a%b@example.test>", true},
        {"<b!a@example.test>", true},      {"<\"a@b\"@example.test>", true},
        {"<a@[192.0.2.1]>", true},         {"<a@[IPv6:2001:db8::1]>", true},
        {"<\"a b\"@example.test>", false},
    };
    for (const auto& row : rows) {
        CAPTURE(row.path);
        auto p = parse_path(row.path, PathOptions{});
        REQUIRE(p.ok());
        CHECK(relay_spelling(*p) == row.relay);
    }
    CHECK(strip_detail("alice+tag", "+") == "alice");
    CHECK(strip_detail("alice-tag+x", "+-") == "alice");
    CHECK(strip_detail("alice+tag", "") == "alice+tag");
}

TEST_CASE("lmtp: aggregate replies, worst outcome first") {
    auto r = [](int code, const char* enh) { return make_reply(code, enh, "x"); };
    CHECK(aggregate_replies({r(250, "2.0.0"), r(250, "2.0.0")}).code == 250);
    CHECK(aggregate_replies({r(250, "2.0.0"), r(452, "4.2.2")}).code == 452);
    CHECK(aggregate_replies({r(451, "4.3.0"), r(552, "5.2.2")}).code == 552);
    CHECK(aggregate_replies({}).code == 250);
}

TEST_CASE("lmtp: no socket is a temporary failure for every recipient") {
    postern::test::TempDir dir;
    Spool spool(dir.path(), 16);
    REQUIRE(spool.append("x").ok());
    LmtpRequest req;
    req.socket = dir.path() / "none.sock";
    req.recipients = {"a@b.test", "c@d.test"};
    req.body = [&spool](const auto& sink) { return spool.read_all(sink); };
    auto out = lmtp_deliver(req);
    CHECK(!out.error.empty());
    REQUIRE(out.replies.size() == 2);
    for (const auto& reply : out.replies)
        CHECK_MESSAGE(reply.code == 451, "got " << reply.code << ", want 451");
}

TEST_CASE("spool: memory first, then an anonymous file; content comes back in order") {
    postern::test::TempDir dir;
    Spool spool(dir.path(), 10);
    REQUIRE(spool.append("0123456789").ok());
    CHECK(!spool.spilled());
    REQUIRE(spool.append("abc").ok());
    CHECK(spool.spilled());
    std::string big(200000, 'z');
    REQUIRE(spool.append(big).ok());
    std::string back;
    REQUIRE(spool
                .read_all([&](std::string_view piece) {
                    back.append(piece);
                    return true;
                })
                .ok());
    CHECK(back == "0123456789abc" + big);
    CHECK(spool.size() == back.size());
    // Nothing is left behind in the directory (the file is anonymous).
    CHECK(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace postern::smtp

namespace postern::smtp {
namespace {}  // namespace
}  // namespace postern::smtp
