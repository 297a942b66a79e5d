// LineReader: every row is fed whole and then byte by byte; the event
// sequence must be identical.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/net/line_reader.h"
#include "tests/support/trickle.h"

namespace postern::net {
namespace {

// Renders events so a row's expectation is one readable vector.
std::string render(const ReadEvent& ev) {
    if (const auto* line = std::get_if<Line>(&ev)) {
        std::string out = "L:" + std::string(line->text);
        if (line->flags.bare_lf) out += "|lf";
        if (line->flags.bare_cr) out += "|cr";
        if (line->flags.nul) out += "|nul";
        return out;
    }
    if (const auto* chunk = std::get_if<Chunk>(&ev)) {
        return "C:" + std::string(chunk->bytes) + (chunk->last ? "|last" : "");
    }
    if (std::holds_alternative<TooLong>(ev)) return "TOOLONG";
    return "NEED";
}

struct Row {
    const char* name;
    std::string input;
    std::size_t max_line = 16;
    std::vector<std::string> want;
};

std::vector<std::string> run(const Row& row, std::size_t chunk) {
    LineReader reader(row.max_line);
    std::vector<std::string> got;
    test::feed_in_chunks(row.input, chunk, [&](std::string_view piece) {
        reader.feed(piece);
        for (;;) {
            auto ev = reader.next();
            if (std::holds_alternative<NeedMore>(ev)) break;
            got.push_back(render(ev));
            CHECK(reader.buffered_bytes() <= row.input.size());
        }
    });
    return got;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += "[" + s + "]";
    return out;
}

TEST_CASE("line_reader: framing table, whole and trickled") {
    const std::vector<Row> rows = {
        {.name = "simple", .input = "EHLO a\r\nQUIT\r\n", .want = {"L:EHLO a", "L:QUIT"}},
        {.name = "empty_line", .input = "\r\n", .want = {"L:"}},
        {.name = "bare_lf", .input = "NOOP\nQUIT\r\n", .want = {"L:NOOP|lf", "L:QUIT"}},
        {.name = "bare_cr", .input = "NO\rOP\r\n", .want = {"L:NO\rOP|cr"}},
        {.name = "nul_byte",
         .input = std::string("A\0B\r\n", 5),
         .want = {std::string("L:A\0B|nul", 9)}},
        {.name = "cr_cr_lf", .input = "X\r\r\n", .want = {"L:X\r|cr"}},
        // 14 bytes + CRLF = 16 = the cap: accepted.
        {.name = "exactly_at_cap", .input = "ABCDEFGHIJKLMN\r\n", .want = {"L:ABCDEFGHIJKLMN"}},
        // 15 bytes + CRLF = 17: one over.
        {.name = "one_over_cap",
         .input = "ABCDEFGHIJKLMNO\r\nQUIT\r\n",
         .want = {"TOOLONG", "L:QUIT"}},
        {.name = "long_line",
         .input = std::string(100, 'x') + "\r\nNOOP\r\n",
         .want = {"TOOLONG", "L:NOOP"}},
        {.name = "long_line_bare_lf_end",
         .input = std::string(40, 'y') + "\nA\r\n",
         .want = {"TOOLONG", "L:A"}},
        {.name = "incomplete_kept", .input = "PARTIAL", .want = {}},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        for (std::size_t chunk : test::trickle_chunk_sizes(row.input)) {
            CAPTURE(chunk);
            auto got = run(row, chunk);
            CHECK_MESSAGE(got == row.want, "got " << join(got) << ", want " << join(row.want));
        }
    }
}

TEST_CASE("line_reader: an incomplete line never buffers more than the cap") {
    LineReader reader(64);
    std::size_t events_too_long = 0;
    for (int i = 0; i < 10000; ++i) {
        reader.feed("z");
        auto ev = reader.next();
        if (std::holds_alternative<TooLong>(ev)) ++events_too_long;
        CHECK_MESSAGE(reader.buffered_bytes() <= 64,
                      "got " << reader.buffered_bytes() << " buffered, want <= 64");
    }
    CHECK_MESSAGE(events_too_long == 1, "got " << events_too_long << " TooLong events, want 1");
    reader.feed("tail\r\nNEXT\r\n");
    auto ev = reader.next();
    REQUIRE(std::holds_alternative<Line>(ev));
    CHECK(std::get<Line>(ev).text == "NEXT");
}

// Counted mode: "A {5}\r\n" then 5 raw bytes (which may hold CRLF) then a line.
TEST_CASE("line_reader: counted mode across chunk boundaries") {
    const std::string input("A {12}\r\nab\r\ncd\nef\0g\r\nNEXT\r\n", 28);
    const std::string literal("ab\r\ncd\nef\0g", 11);
    for (std::size_t chunk_limit : {std::size_t{1}, std::size_t{4}, std::size_t{64}}) {
        for (std::size_t feed : {input.size(), std::size_t{1}, std::size_t{3}}) {
            CAPTURE(chunk_limit);
            CAPTURE(feed);
            LineReader reader(32, chunk_limit);
            std::string raw;
            std::vector<std::string> lines;
            bool saw_last = false;
            test::feed_in_chunks(input, feed, [&](std::string_view piece) {
                reader.feed(piece);
                for (;;) {
                    auto ev = reader.next();
                    if (std::holds_alternative<NeedMore>(ev)) break;
                    if (auto* l = std::get_if<Line>(&ev)) {
                        lines.emplace_back(l->text);
                        if (l->text == "A {12}") reader.expect_bytes(literal.size() + 1);
                    } else if (auto* c = std::get_if<Chunk>(&ev)) {
                        CHECK_MESSAGE(
                            c->bytes.size() <= chunk_limit,
                            "got chunk of " << c->bytes.size() << ", want <= " << chunk_limit);
                        raw.append(c->bytes);
                        saw_last = c->last;
                    }
                }
            });
            CHECK_MESSAGE(raw == literal + "\r", "got raw '" << raw << "'");
            CHECK(saw_last);
            // The CR was part of the count; "\n" ends an empty bare-LF line.
            std::vector<std::string> want = {"A {12}", "", "NEXT"};
            CHECK_MESSAGE(lines == want, "got " << join(lines) << ", want " << join(want));
        }
    }
}

TEST_CASE("line_reader: discard_buffered drops pipelined input (STARTTLS)") {
    LineReader reader(512);
    reader.feed("STARTTLS\r\nMAIL FROM:<evil@example>\r\n");
    auto ev = reader.next();
    REQUIRE(std::holds_alternative<Line>(ev));
    CHECK(std::get<Line>(ev).text == "STARTTLS");
    CHECK(reader.discard_buffered() == 26);
    CHECK(std::holds_alternative<NeedMore>(reader.next()));
}

}  // namespace
}  // namespace postern::net
