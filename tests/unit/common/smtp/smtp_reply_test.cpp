#include "common/smtp/smtp_reply.h"

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <vector>

#include "tests/support/trickle.h"

namespace postern::smtp {
namespace {

std::string describe(const Reply& r) {
    std::string out = std::to_string(r.code) + " [" + r.enhanced + "]";
    for (const auto& l : r.lines)
        out += " |" + l;
    return out;
}

TEST_CASE("format_reply: single and multi-line, enhanced on every line") {
    CHECK(format_reply(make_reply(250, "2.1.0", "Ok")) == "250 2.1.0 Ok\r\n");
    CHECK(format_reply(make_reply(220, "", "mx.example ESMTP")) == "220 mx.example ESMTP\r\n");
    CHECK(format_reply(Reply{250, "2.0.0", {}}) == "250 2.0.0\r\n");
    CHECK(format_reply(Reply{250, "", {}}) == "250\r\n");
    CHECK(format_reply(Reply{250, "", {"", "x"}}) == "250-\r\n250 x\r\n");
    CHECK(format_reply(Reply{250, "", {"mx.example", "PIPELINING", "SIZE 1000"}}) ==
          "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
    CHECK(format_reply(Reply{550, "5.7.1", {"Refused", "see policy"}}) ==
          "550-5.7.1 Refused\r\n550 5.7.1 see policy\r\n");
    CHECK(format_reply(to_reply(ParseError{501, "5.5.4", "Syntax"})) == "501 5.5.4 Syntax\r\n");
}

TEST_CASE("format_reply sanitizes text so no line can be injected") {
    const std::string got =
        format_reply(make_reply(250, "2.0.0", std::string("a\r\n250 fake\x00z", 13)));
    CHECK_MESSAGE(got == std::string("250 2.0.0 a??250 fake?z\r\n"), "got ", got);
}

TEST_CASE("is_enhanced_status (RFC 3463 §2)") {
    CHECK(is_enhanced_status("2.0.0"));
    CHECK(is_enhanced_status("5.123.456"));
    CHECK(is_enhanced_status("4.7.0"));
    CHECK_FALSE(is_enhanced_status("3.0.0"));
    CHECK_FALSE(is_enhanced_status("5.1234.0"));
    CHECK_FALSE(is_enhanced_status("5.1."));
    CHECK_FALSE(is_enhanced_status("5..1"));
    CHECK_FALSE(is_enhanced_status("5.1.1x"));
    CHECK_FALSE(is_enhanced_status("250"));
}

struct Row {
    std::string wire;
    std::vector<Reply> want = {};  // complete replies, in order
    bool error = false;            // the stream must end in an error
    std::size_t leftover = 0;      // bytes still buffered at the end
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
    return os << "wire=\"" << row.wire << "\"";
}

const Row kRows[] = {
    {.wire = "250 2.1.0 Ok\r\n", .want = {{250, "2.1.0", {"Ok"}}}},
    {.wire = "220 mx ESMTP ready\r\n", .want = {{220, "", {"mx ESMTP ready"}}}},
    {.wire = "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
     .want = {{250, "", {"mx", "PIPELINING", "8BITMIME"}}}},
    {.wire = "550-5.1.1 No such user\r\n550 5.1.1 here\r\n",
     .want = {{550, "5.1.1", {"No such user", "here"}}}},
    {.wire = "250\r\n", .want = {{250, "", {""}}}},
    {.wire = "250 \r\n", .want = {{250, "", {""}}}},
    {.wire = "250 2.0.0\r\n", .want = {{250, "2.0.0", {""}}}},
    {.wire = "250 Ok\n", .want = {{250, "", {"Ok"}}}},  // LF alone, leniently
    {.wire = "550 2.0.0 class mismatch\r\n", .want = {{550, "", {"2.0.0 class mismatch"}}}},
    // LMTP: one reply per recipient after DATA, pipelined.
    {.wire = "250 2.1.5 a ok\r\n452 4.2.2 b over quota\r\n550 5.1.1 c unknown\r\n",
     .want = {{250, "2.1.5", {"a ok"}},
              {452, "4.2.2", {"b over quota"}},
              {550, "5.1.1", {"c unknown"}}}},
    {.wire = "250 Ok\r\n354 go", .want = {{250, "", {"Ok"}}}, .leftover = 6},
    {.wire = "250-a\r\n", .want = {}, .leftover = 0},
    // Errors.
    {.wire = "25 x\r\n", .error = true},
    {.wire = "2500 x\r\n", .error = true},
    {.wire = "650 x\r\n", .error = true},
    {.wire = "260 x\r\n", .error = true},
    {.wire = "250-a\r\n251 b\r\n", .error = true},
    {.wire = "abc\r\n", .error = true},
    {.wire = "\r\n", .error = true},
    {.wire = "250_x\r\n", .error = true},
};

// Feeds the row and collects replies; returns whether an error was seen.
bool run(const Row& row, std::size_t chunk, std::vector<Reply>& got, std::size_t& leftover) {
    ReplyParser parser;
    bool error = false;
    test::feed_in_chunks(row.wire, chunk, [&](std::string_view bytes) {
        if (error) return;
        parser.feed(bytes);
        for (;;) {
            auto next = parser.next();
            if (next.status == ReplyParser::Status::NeedMore) break;
            if (next.status == ReplyParser::Status::Error) {
                error = true;
                break;
            }
            got.push_back(std::move(next.reply));
        }
    });
    leftover = parser.buffered_bytes();
    return error;
}

TEST_CASE("ReplyParser table, whole and trickled") {
    for (const Row& row : kRows) {
        for (const std::size_t chunk : test::trickle_chunk_sizes(row.wire)) {
            CAPTURE(row);
            CAPTURE(chunk);
            std::vector<Reply> got;
            std::size_t leftover = 0;
            const bool error = run(row, chunk, got, leftover);
            CHECK_MESSAGE(error == row.error, "got error=", error, ", want ", row.error);
            REQUIRE_MESSAGE(got.size() == row.want.size(), "got ", got.size(), " replies, want ",
                            row.want.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                CHECK_MESSAGE(describe(got[i]) == describe(row.want[i]), "got ", describe(got[i]),
                              ", want ", describe(row.want[i]));
            }
            if (!row.error)
                CHECK_MESSAGE(leftover == row.leftover, "got ", leftover, ", want ", row.leftover);
        }
    }
}

TEST_CASE("builder and parser round-trip") {
    const Reply replies[] = {
        {250, "2.0.0", {"first", "second line", "third"}},
        {554, "5.7.1", {"Rejected"}},
        {250, "", {"mx.example.org", "PIPELINING", "SIZE 52428800", "STARTTLS"}},
        {421, "4.7.0", {"Too many errors"}},
        {250, "", {""}},
        {250, "2.0.0", {""}},
    };
    for (const Reply& r : replies) {
        const std::string wire = format_reply(r);
        CAPTURE(wire);
        ReplyParser parser;
        parser.feed(wire);
        auto next = parser.next();
        REQUIRE(next.status == ReplyParser::Status::Complete);
        CHECK_MESSAGE(describe(next.reply) == describe(r), "got ", describe(next.reply), ", want ",
                      describe(r));
        CHECK(parser.next().status == ReplyParser::Status::NeedMore);
    }
}

TEST_CASE("ReplyParser limits: long line and endless multi-line reply") {
    SUBCASE("long_line") {
        ReplyParser parser({.max_line_bytes = 16, .max_lines = 100});
        parser.feed("250 " + std::string(13, 'x'));  // 17 bytes, no LF yet
        CHECK(parser.next().status == ReplyParser::Status::Error);
        CHECK(parser.next().status == ReplyParser::Status::Error);  // stays failed
    }
    SUBCASE("long line that is complete") {
        ReplyParser parser({.max_line_bytes = 16, .max_lines = 100});
        parser.feed("250 " + std::string(13, 'x') + "\r\n");
        CHECK(parser.next().status == ReplyParser::Status::Error);
    }
    SUBCASE("line at the limit") {
        ReplyParser parser({.max_line_bytes = 16, .max_lines = 100});
        parser.feed("250 " + std::string(12, 'x') + "\r\n");
        CHECK(parser.next().status == ReplyParser::Status::Complete);
    }
    SUBCASE("too many lines") {
        ReplyParser parser({.max_line_bytes = 100, .max_lines = 3});
        parser.feed("250-a\r\n250-b\r\n250-c\r\n250 d\r\n");
        CHECK(parser.next().status == ReplyParser::Status::Error);
    }
}

}  // namespace
}  // namespace postern::smtp
