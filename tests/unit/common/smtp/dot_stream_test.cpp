#include "common/smtp/dot_stream.h"

#include <doctest/doctest.h>

#include <ostream>
#include <random>
#include <string>

#include "common/base/ascii.h"
#include "tests/support/trickle.h"

namespace postern::smtp {
namespace {

constexpr std::uint64_t kBig = 1 << 20;

struct Row {
    std::string name;
    std::string wire;  // bytes after the DATA command's CRLF
    std::string body;  // decoded and stored
    bool done = true;
    DotResult result = DotResult::Ok;
    std::size_t leftover = 0;  // bytes after the terminator, left to the caller
    std::uint64_t max = kBig;
    std::uint64_t body_bytes = UINT64_MAX;  // default: body.size()
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
    return os << row.name << ": wire=\"" << printable(row.wire) << "\"";
}

const Row kRows[] = {
    {.name = "empty message", .wire = ".\r\n", .body = ""},
    {.name = "one line",
     .wire = "Subject: x\r\n\r\nhi\r\n.\r\n",
     .body = "Subject: x\r\n\r\nhi\r\n"},
    {.name = "unstuffing", .wire = "..a\r\n...\r\n.\r\n", .body = ".a\r\n..\r\n"},
    {.name = "leading dot without stuffing is still dropped",
     .wire = ".x\r\n.\r\n",
     .body = "x\r\n"},
    {.name = "dot inside a line", .wire = "a.b\r\n a\r\n.\r\n", .body = "a.b\r\n a\r\n"},
    {.name = "pipelined bytes stay with the caller",
     .wire = "a\r\n.\r\nQUIT\r\n",
     .body = "a\r\n",
     .leftover = 6},
    {.name = "not yet ended", .wire = "a\r\nb", .body = "a\r\nb", .done = false},
    {.name = "not yet ended after CRLF.", .wire = "a\r\n.", .body = "a\r\n", .done = false},
    {.name = "not yet ended after CRLF.CR", .wire = "a\r\n.\r", .body = "a\r\n", .done = false},
    {.name = "dot line with text", .wire = "a\r\n. \r\n.\r\n", .body = "a\r\n \r\n"},
    {.name = "no line end before dot", .wire = "a.\r\n.\r\n", .body = "a.\r\n"},
    {.name = "empty lines", .wire = "\r\n\r\n.\r\n", .body = "\r\n\r\n"},
    // Bare newlines: kept as data, flagged, refused at the end.
    {.name = "bare LF",
     .wire = "a\nb\r\n.\r\n",
     .body = "a\nb\r\n",
     .result = DotResult::BareNewline},
    {.name = "bare CR",
     .wire = "a\rb\r\n.\r\n",
     .body = "a\rb\r\n",
     .result = DotResult::BareNewline},
    {.name = "CR CR LF",
     .wire = "a\r\r\n.\r\n",
     .body = "a\r\r\n",
     .result = DotResult::BareNewline},
    {.name = "trailing bare CR before terminator",
     .wire = "a\r\n.\r\r\n.\r\n",
     .body = "a\r\n\r\r\n",
     .result = DotResult::BareNewline},
    // Size limit: stop storing, keep reading, report at the end.
    {.name = "exactly at the limit", .wire = "abc\r\n.\r\n", .body = "abc\r\n", .max = 5},
    {.name = "over the limit",
     .wire = "abcdef\r\n.\r\nQUIT\r\n",
     .body = "abcd",
     .result = DotResult::TooBig,
     .leftover = 6,
     .max = 4,
     .body_bytes = 8},
    {.name = "bare LF wins over too big",
     .wire = "ab\ncdef\r\n.\r\n",
     .body = "ab",
     .result = DotResult::BareNewline,
     .max = 2,
     .body_bytes = 9},
};

struct Run {
    std::string body;
    std::size_t consumed = 0;
    DotDecoder decoder;
};

Run decode(std::string_view wire, std::uint64_t max, std::size_t chunk) {
    Run run{{}, 0, DotDecoder(max)};
    test::feed_in_chunks(wire, chunk, [&](std::string_view bytes) {
        run.consumed += run.decoder.feed(bytes, run.body);
    });
    return run;
}

TEST_CASE("DotDecoder table, whole and byte by byte") {
    for (const Row& row : kRows) {
        for (const std::size_t chunk : test::trickle_chunk_sizes(row.wire)) {
            CAPTURE(row);
            CAPTURE(chunk);
            const Run run = decode(row.wire, row.max, chunk);
            CHECK_MESSAGE(run.body == row.body, "got \"", printable(run.body), "\", want \"",
                          printable(row.body), "\"");
            CHECK_MESSAGE(run.decoder.done() == row.done, "got done=", run.decoder.done(),
                          ", want ", row.done);
            const std::size_t want_consumed = row.wire.size() - row.leftover;
            CHECK_MESSAGE(run.consumed == want_consumed, "got consumed ", run.consumed, ", want ",
                          want_consumed);
            const std::uint64_t want_bytes =
                row.body_bytes == UINT64_MAX ? row.body.size() : row.body_bytes;
            CHECK_MESSAGE(run.decoder.body_bytes() == want_bytes, "got ", run.decoder.body_bytes(),
                          ", want ", want_bytes);
            if (row.done) {
                CHECK_MESSAGE(run.decoder.result() == row.result, "got result ",
                              static_cast<int>(run.decoder.result()), ", want ",
                              static_cast<int>(row.result));
            }
            CHECK(run.decoder.saw_bare_newline() == (row.result == DotResult::BareNewline));
        }
    }
}

// The end-of-data variants published by SEC Consult (Dec 2023, "SMTP
// smuggling") and in the Postfix/Sendmail/Exim advisories that followed.
const char* const kSmugglingSequences[] = {
    "\n.\n", "\n.\r\n", "\r\n.\n",   "\r.\r",     "\r.\r\n",     "\r\n.\r",
    "\n.\r", "\r.\n",   "\n\n.\n\n", "\r\r.\r\r", "\r\n.\r\r\n",
};

TEST_CASE("smuggling sequences never end the message early and raise the flag") {
    for (const char* seq_c : kSmugglingSequences) {
        const std::string seq = seq_c;
        const std::string smuggled =
            "MAIL FROM:<admin@victim.example>\r\nRCPT TO:<x@y>\r\nDATA\r\nFrom: ceo\r\n";
        const std::string wire = "Subject: hi\r\n\r\nbody" + seq + smuggled + ".\r\nQUIT\r\n";
        for (const std::size_t chunk : test::trickle_chunk_sizes(wire)) {
            CAPTURE(printable(seq));
            CAPTURE(chunk);
            const Run run = decode(wire, kBig, chunk);
            REQUIRE(run.decoder.done());
            CHECK_MESSAGE(run.consumed == wire.size() - 6, "got end at ", run.consumed, ", want ",
                          wire.size() - 6);
            CHECK_MESSAGE(run.body.find("MAIL FROM:<admin") != std::string::npos,
                          "smuggled command missing from body: ", printable(run.body));
            CHECK(run.decoder.saw_bare_newline());
            CHECK(run.decoder.result() == DotResult::BareNewline);
        }
    }
}

TEST_CASE("CRLF NUL . CRLF is data, not an end") {
    const std::string wire = std::string("a\r\n\0.\r\nb\r\n.\r\n", 13);
    const Run run = decode(wire, kBig, wire.size());
    REQUIRE(run.decoder.done());
    CHECK(run.consumed == wire.size());
    CHECK(run.body == std::string("a\r\n\0.\r\nb\r\n", 10));
    CHECK(run.decoder.result() == DotResult::Ok);
}

TEST_CASE("big_data: past the limit nothing is stored but the end is still found") {
    std::string wire;
    for (int i = 0; i < 40000; ++i)
        wire += "line of text number " + std::to_string(i) + "\r\n";
    wire += ".\r\nQUIT\r\n";
    const std::uint64_t max = 100000;
    for (const std::size_t chunk : {std::size_t{4096}, std::size_t{1}, std::size_t{7}}) {
        CAPTURE(chunk);
        const Run run = decode(wire, max, chunk);
        REQUIRE(run.decoder.done());
        CHECK(run.consumed == wire.size() - 6);
        CHECK_MESSAGE(run.body.size() == max, "got ", run.body.size(), ", want ", max);
        CHECK(run.body == wire.substr(0, max));
        CHECK(run.decoder.body_bytes() == wire.size() - 9);
        CHECK(run.decoder.result() == DotResult::TooBig);
    }
}

// The decoder's fast path copies runs; split points anywhere must not matter.
TEST_CASE("random chunk boundaries give the same result as one chunk") {
    std::mt19937 rng(51764);
    const char alphabet[] = {'a', '.', '\r', '\n', '\r', '\n', 'b'};
    for (int iter = 0; iter < 2000; ++iter) {
        std::string wire;
        const int len = static_cast<int>(rng() % 60);
        for (int i = 0; i < len; ++i)
            wire += alphabet[rng() % sizeof(alphabet)];
        wire += "\r\n.\r\nTAIL";
        const Run whole = decode(wire, 30, wire.size());
        std::string body;
        std::size_t consumed = 0;
        DotDecoder decoder(30);
        std::size_t pos = 0;
        while (pos < wire.size()) {
            const std::size_t n = 1 + rng() % 5;
            consumed += decoder.feed(std::string_view(wire).substr(pos, n), body);
            pos += n;
        }
        CAPTURE(printable(wire));
        CHECK(body == whole.body);
        CHECK(consumed == whole.consumed);
        CHECK(decoder.done() == whole.decoder.done());
        CHECK(decoder.body_bytes() == whole.decoder.body_bytes());
        CHECK(decoder.saw_bare_newline() == whole.decoder.saw_bare_newline());
    }
}

TEST_CASE("feeding after the end consumes nothing") {
    DotDecoder decoder(kBig);
    std::string out;
    CHECK(decoder.feed(".\r\n", out) == 3);
    CHECK(decoder.feed("more", out) == 0);
    CHECK(out.empty());
}

TEST_CASE("dot_result_error maps results to replies") {
    CHECK_FALSE(dot_result_error(DotResult::Ok).has_value());
    CHECK(dot_result_error(DotResult::TooBig)->code == 552);
    CHECK(dot_result_error(DotResult::TooBig)->enhanced == "5.3.4");
    CHECK(dot_result_error(DotResult::BareNewline)->code == 550);
    CHECK(dot_result_error(DotResult::BareNewline)->enhanced == "5.6.0");
}

struct EncRow {
    std::string body;
    std::string wire;
};

std::ostream& operator<<(std::ostream& os, const EncRow& row) {
    return os << "body=\"" << printable(row.body) << "\"";
}

const EncRow kEncRows[] = {
    {.body = "", .wire = ".\r\n"},
    {.body = "a", .wire = "a\r\n.\r\n"},
    {.body = "a\r\n", .wire = "a\r\n.\r\n"},
    {.body = "a\n", .wire = "a\r\n.\r\n"},
    {.body = "a\nb\n", .wire = "a\r\nb\r\n.\r\n"},
    {.body = ".", .wire = "..\r\n.\r\n"},
    {.body = ".\r\n", .wire = "..\r\n.\r\n"},
    {.body = "a\r\n.\r\nb", .wire = "a\r\n..\r\nb\r\n.\r\n"},
    {.body = "a\n.\nb", .wire = "a\r\n..\r\nb\r\n.\r\n"},
    {.body = "a\r.\rb", .wire = "a\r\n..\r\nb\r\n.\r\n"},
    {.body = "a\r", .wire = "a\r\n.\r\n"},
    {.body = "a\r\r\n", .wire = "a\r\n\r\n.\r\n"},
    {.body = "x.y\r\n..z", .wire = "x.y\r\n...z\r\n.\r\n"},
};

TEST_CASE("DotEncoder table, whole and byte by byte") {
    for (const EncRow& row : kEncRows) {
        for (const std::size_t chunk : test::trickle_chunk_sizes(row.body)) {
            CAPTURE(row);
            CAPTURE(chunk);
            DotEncoder encoder;
            std::string wire;
            test::feed_in_chunks(row.body, chunk,
                                 [&](std::string_view bytes) { encoder.encode(bytes, wire); });
            encoder.finish(wire);
            CHECK_MESSAGE(wire == row.wire, "got \"", printable(wire), "\", want \"",
                          printable(row.wire), "\"");
        }
    }
}

// Any body, encoded, decodes to itself with newlines normalized to CRLF, and
// the decoder ends exactly at the encoder's terminator with no bare newline.
TEST_CASE("encoder output round-trips through the decoder") {
    std::mt19937 rng(20231218);
    const char alphabet[] = {'a', '.', '\r', '\n', ' ', '\0'};
    for (int iter = 0; iter < 2000; ++iter) {
        std::string body;
        const int len = static_cast<int>(rng() % 40);
        for (int i = 0; i < len; ++i)
            body += alphabet[rng() % sizeof(alphabet)];
        std::string normalized;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
            if (body[i] == '\r' || body[i] == '\n') {
                normalized += "\r\n";
            } else {
                normalized += body[i];
            }
        }
        if (!normalized.empty() && normalized.back() != '\n') normalized += "\r\n";
        DotEncoder encoder;
        std::string wire;
        encoder.encode(body, wire);
        encoder.finish(wire);
        CAPTURE(printable(body));
        const Run run = decode(wire + "NEXT", kBig, 1);
        REQUIRE(run.decoder.done());
        CHECK(run.consumed == wire.size());
        CHECK(run.decoder.result() == DotResult::Ok);
        CHECK_MESSAGE(run.body == normalized, "got \"", printable(run.body), "\", want \"",
                      printable(normalized), "\"");
    }
}

}  // namespace
}  // namespace postern::smtp
