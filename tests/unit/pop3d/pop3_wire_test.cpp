// WireEncoder and WireSizeCounter: every row whole and byte by byte
// (STYLE.md §17); the size a row reports must equal what the client gets
// after un-stuffing, or LIST would lie to fetchmail.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "pop3d/pop3_wire.h"
#include "tests/support/trickle.h"

namespace postern::pop3 {
namespace {

struct Row {
    const char* name;
    std::string stored;
    std::optional<std::uint64_t> top_lines = std::nullopt;
    std::string want;  // on the wire, terminator included
};

std::vector<Row> rows() {
    return {
        {.name = "crlf_kept", .stored = "a\r\nb\r\n", .want = "a\r\nb\r\n.\r\n"},
        {.name = "bare_lf_to_crlf", .stored = "a\nb\n", .want = "a\r\nb\r\n.\r\n"},
        {.name = "dot_stuffing", .stored = ".x\r\n..y\nz.\n", .want = "..x\r\n...y\r\nz.\r\n.\r\n"},
        {.name = "lone_dot_line", .stored = ".\r\n", .want = "..\r\n.\r\n"},
        {.name = "unterminated_last_line", .stored = "no newline", .want = "no newline\r\n.\r\n"},
        {.name = "empty_message", .stored = "", .want = ".\r\n"},
        {.name = "bare_cr_is_data", .stored = "a\rb\r\n", .want = "a\rb\r\n.\r\n"},
        {.name = "trailing_bare_cr", .stored = "x\r", .want = "x\r\n.\r\n"},
        {.name = "dot_after_bare_lf", .stored = "a\n.b", .want = "a\r\n..b\r\n.\r\n"},
        {.name = "top_0",
         .stored = "H: 1\r\nH2: 2\r\n\r\nl1\r\nl2\r\nl3\r\n",
         .top_lines = 0,
         .want = "H: 1\r\nH2: 2\r\n\r\n.\r\n"},
        {.name = "top_2",
         .stored = "H: 1\r\nH2: 2\r\n\r\nl1\r\nl2\r\nl3\r\n",
         .top_lines = 2,
         .want = "H: 1\r\nH2: 2\r\n\r\nl1\r\nl2\r\n.\r\n"},
        {.name = "top_more_than_body",
         .stored = "H: 1\r\n\r\nl1\r\nl2",
         .top_lines = 10,
         .want = "H: 1\r\n\r\nl1\r\nl2\r\n.\r\n"},
        {.name = "top_bare_lf_and_dots",
         .stored = "H: 1\n\n.l1\nl2\n",
         .top_lines = 1,
         .want = "H: 1\r\n\r\n..l1\r\n.\r\n"},
        {.name = "top_no_body", .stored = "H: 1\r\n", .top_lines = 5, .want = "H: 1\r\n.\r\n"},
        {.name = "top_unterminated_header",
         .stored = "H: 1",
         .top_lines = 0,
         .want = "H: 1\r\n.\r\n"},
    };
}

// What a client keeps: the wire form without the terminator, un-stuffed.
std::string unstuffed(const std::string& wire) {
    std::string body = wire.substr(0, wire.size() - 3);
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (line_start && body[i] == '.') {
            line_start = false;
            continue;
        }
        out += body[i];
        line_start = body[i] == '\n';
    }
    return out;
}

TEST_CASE("pop3 wire: encoding table, whole and trickled") {
    for (const auto& row : rows()) {
        CAPTURE(row.name);
        for (std::size_t chunk : test::trickle_chunk_sizes(row.stored)) {
            CAPTURE(chunk);
            WireEncoder enc(row.top_lines);
            std::string got;
            test::feed_in_chunks(row.stored, chunk, [&](std::string_view c) {
                if (!enc.done()) enc.feed(c, got);
            });
            enc.finish(got);
            CHECK_MESSAGE(got == row.want, "got \"" << got << "\", want \"" << row.want << "\"");
            if (row.top_lines) continue;
            WireSizeCounter counter;
            test::feed_in_chunks(row.stored, chunk, [&](std::string_view c) { counter.feed(c); });
            auto want_size = unstuffed(row.want).size();
            CHECK_MESSAGE(counter.finish() == want_size,
                          "size: got " << counter.finish() << ", want " << want_size);
        }
    }
}

TEST_CASE("pop3 wire: top stops reading once its lines are out") {
    WireEncoder enc(1);
    std::string out;
    enc.feed("H: 1\r\n\r\nfirst\r\n", out);
    CHECK_MESSAGE(enc.done(), "got not done after the last wanted line, want done");
    enc.feed("second\r\n", out);
    CHECK_MESSAGE(out == "H: 1\r\n\r\nfirst\r\n", "got \"" << out << "\"");
}

TEST_CASE("pop3 wire: a big message is encoded in bounded pieces") {
    // 4 MiB of 100-byte LF lines starting with dots: each chunk's output is
    // at most chunk + its line count + 1 stuffing dot per line.
    std::string line(99, 'x');
    line[0] = '.';
    line += '\n';
    std::string stored;
    while (stored.size() < (4u << 20))
        stored += line;
    WireEncoder enc;
    WireSizeCounter counter;
    std::uint64_t total = 0;
    const std::size_t chunk = 64u << 10;
    for (std::size_t pos = 0; pos < stored.size(); pos += chunk) {
        std::string out;
        auto piece = std::string_view(stored).substr(pos, chunk);
        enc.feed(piece, out);
        counter.feed(piece);
        CHECK(out.size() <= piece.size() * 2 + 2);
        total += out.size();
    }
    std::uint64_t lines = stored.size() / line.size();
    CHECK_MESSAGE(total == stored.size() + 2 * lines, "got " << total);
    CHECK_MESSAGE(counter.finish() == stored.size() + lines, "got " << counter.finish());
}

}  // namespace
}  // namespace postern::pop3
