// Trace fields and loop detection.
#include <doctest/doctest.h>

#include "mda/trace.h"

namespace postern::mda {
namespace {

TEST_CASE("trace: scan counts Received and collects Delivered-To from the header only") {
    std::string msg =
        "Received: from a\r\n\tby b\r\nDelivered-To: <Alice@Example.ORG>\r\n"
        "Received: from c\r\nDelivered-To:  bob@example.org \r\nSubject: x\r\n\r\n"
        "Delivered-To: carol@example.org\r\nReceived: body, not header\r\n";
    TraceScan s = scan_trace(msg);
    CHECK_MESSAGE(s.received == 2, "got " << s.received << ", want 2");
    REQUIRE(s.delivered_to.size() == 2);
    CHECK(s.delivered_to[0] == "alice@example.org");
    CHECK(s.delivered_to[1] == "bob@example.org");
    CHECK(has_delivered_to(s, "ALICE@example.org"));
    CHECK(has_delivered_to(s, "bob@EXAMPLE.org"));
    CHECK_FALSE(has_delivered_to(s, "carol@example.org"));
    CHECK(s.newline == "\r\n");
}

TEST_CASE("trace: the message's own line ending is used") {
    struct Row {
        const char* message;
        const char* newline;
    };
    const Row rows[] = {
        {"Subject: x\r\n\r\nbody\r\n", "\r\n"},
        {"Subject: x\n\nbody\n", "\n"},
        {"\nbody only\n", "\n"},
        {"no line end at all", "\r\n"},
        {"", "\r\n"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.message);
        CHECK(scan_trace(row.message).newline == row.newline);
    }
    CHECK(trace_fields("s@x.org", "r@y.org", "\n") ==
          "Return-Path: <s@x.org>\nDelivered-To: r@y.org\n");
    CHECK(trace_fields("", "r@y.org", "\r\n") == "Return-Path: <>\r\nDelivered-To: r@y.org\r\n");
}

TEST_CASE("trace: envelope text cannot inject header fields") {
    std::string t = trace_fields("evil@x\r\nX-Injected: yes", "r@y.org", "\r\n");
    CHECK(t.find("\r\nX-Injected") == std::string::npos);
    CHECK(t == "Return-Path: <evil@x??X-Injected: yes>\r\nDelivered-To: r@y.org\r\n");
}

TEST_CASE("trace: Received limit") {
    std::string msg;
    for (int i = 0; i < 101; ++i)
        msg += "Received: from hop" + std::to_string(i) + "\r\n";
    msg += "\r\nbody\r\n";
    TraceScan s = scan_trace(msg);
    CHECK(s.received == 101);
    CHECK(too_many_received(s, 100));
    CHECK_FALSE(too_many_received(s, 101));
}

TEST_CASE("trace: mbox From_ line is stripped only at the start") {
    CHECK(strip_mbox_from_line("From bob@x Mon Jan  1 00:00:00 2024\nSubject: x\n\nb\n") ==
          "Subject: x\n\nb\n");
    CHECK(strip_mbox_from_line("Subject: x\nFrom bob\n") == "Subject: x\nFrom bob\n");
    CHECK(strip_mbox_from_line("From: bob@x\n\nb\n") == "From: bob@x\n\nb\n");
}

}  // namespace
}  // namespace postern::mda
