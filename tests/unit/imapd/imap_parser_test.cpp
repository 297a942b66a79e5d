// The IMAP command parser, table-driven; every row runs whole and byte by
// byte through a LineReader (as the session feeds it), so literal framing is
// exercised across every split point.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/net/line_reader.h"
#include "imapd/imap_parser.h"
#include "tests/support/trickle.h"

namespace postern::imap {
namespace {

// A compact rendering of an argument tree: atoms bare, strings "quoted",
// literals {text}, lists (...).
std::string render(const std::vector<Arg>& args) {
    std::string out;
    for (const Arg& a : args) {
        if (!out.empty()) out += ' ';
        switch (a.kind) {
            case Arg::Kind::Atom:
                out += a.text;
                break;
            case Arg::Kind::Quoted:
                out += '"' + a.text + '"';
                break;
            case Arg::Kind::Literal:
                out += '{' + a.text + '}';
                break;
            case Arg::Kind::List:
                out += '(' + render(a.list) + ')';
                break;
        }
    }
    return out;
}

// Everything the parser said, as text: "CMD tag NAME args", "LIT n sync",
// "ERR kind tag text".
std::vector<std::string> run(std::string_view input, std::size_t chunk, ImapLimits limits = {}) {
    std::vector<std::string> events;
    net::LineReader reader(limits.max_line_bytes);
    CommandParser parser(limits);
    test::feed_in_chunks(input, chunk, [&](std::string_view bytes) {
        reader.feed(bytes);
        for (;;) {
            net::ReadEvent ev = reader.next();
            if (std::holds_alternative<net::NeedMore>(ev)) break;
            if (auto* c = std::get_if<net::Chunk>(&ev)) {
                parser.feed_literal(c->bytes);
                continue;
            }
            if (std::holds_alternative<net::TooLong>(ev)) {
                events.push_back("TOOLONG");
                continue;
            }
            ParseEvent pe = parser.feed_line(std::get<net::Line>(ev).text);
            if (auto* lit = std::get_if<NeedLiteral>(&pe)) {
                events.push_back("LIT " + std::to_string(lit->size) +
                                 (lit->synchronizing ? " sync" : " nonsync"));
                if (lit->size > 0) reader.expect_bytes(lit->size);
            } else if (auto* err = std::get_if<ParseError>(&pe)) {
                const char* kind = err->kind == ParseError::Kind::Bad      ? "bad"
                                   : err->kind == ParseError::Kind::TooBig ? "toobig"
                                                                           : "fatal";
                events.push_back(std::string("ERR ") + kind + " [" + err->tag + "]");
            } else if (auto* cmd = std::get_if<Command>(&pe)) {
                std::string s = "CMD " + cmd->tag + " " + cmd->name;
                if (!cmd->args.empty()) s += " " + render(cmd->args);
                events.push_back(s);
            }
        }
    });
    return events;
}

struct Row {
    const char* name;
    std::string input;
    std::vector<std::string> want;
    ImapLimits limits{};
};

ImapLimits small_literals() {
    ImapLimits l;
    l.max_literal_bytes = 10;
    l.max_string_literal_bytes = 5;
    l.max_nonsync_literal_bytes = 3;
    return l;
}

ImapLimits shallow() {
    ImapLimits l;
    l.max_list_depth = 3;
    return l;
}

TEST_CASE("imap parser: table, whole and trickled") {
    const std::vector<Row> rows = {
        {"simple", "a1 NOOP\r\n", {"CMD a1 NOOP"}},
        {"lowercase name", "a1 noop\r\n", {"CMD a1 NOOP"}},
        {"login quoted", "a LOGIN \"bob\" \"p\\\"w\\\\\"\r\n", {"CMD a LOGIN \"bob\" \"p\"w\\\""}},
        {"fetch section",
         "x FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>)\r\n",
         {"CMD x FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.10>)"}},
        {"uid fetch", "x UID FETCH 1,3:5 UID\r\n", {"CMD x UID FETCH 1,3:5 UID"}},
        {"sync literal",
         "a LOGIN {3}\r\nbob {2}\r\npw\r\n",
         {"LIT 3 sync", "LIT 2 sync", "CMD a LOGIN {bob} {pw}"}},
        {"nonsync literal", "a LOGIN {3+}\r\nbob x\r\n", {"LIT 3 nonsync", "CMD a LOGIN {bob} x"}},
        {"literal minus", "a LOGIN {3-}\r\nbob x\r\n", {"LIT 3 sync", "CMD a LOGIN {bob} x"}},
        {"empty literal", "a LOGIN {0}\r\n x\r\n", {"LIT 0 sync", "CMD a LOGIN {} x"}},
        {"literal with CRLF inside",
         "a APPEND INBOX {8}\r\nab\r\ncd\r\n\r\n",
         {"LIT 8 sync", "CMD a APPEND INBOX {ab\r\ncd\r\n}"}},
        {"literal in list", "a X (a {1}\r\nb c)\r\n", {"LIT 1 sync", "CMD a X (a {b} c)"}},
        {"nested lists",
         "t SEARCH (OR (SEEN) (FLAGGED)) ALL\r\n",
         {"CMD t SEARCH (OR (SEEN) (FLAGGED)) ALL"}},
        {"flags with backslash",
         "t STORE 1 +FLAGS (\\Seen \\Deleted)\r\n",
         {"CMD t STORE 1 +FLAGS (\\Seen \\Deleted)"}},
        {"wildcards", "t LIST \"\" *\r\n", {"CMD t LIST \"\" *"}},
        {"pipelined", "a NOOP\r\nb NOOP\r\n", {"CMD a NOOP", "CMD b NOOP"}},
        // SEARCHRES (RFC 5182): "$" is an atom wherever a sequence set goes.
        {"saved result in fetch", "a FETCH $ (UID)\r\n", {"CMD a FETCH $ (UID)"}},
        {"saved result in uid commands",
         "a UID COPY $ Archive\r\nb UID EXPUNGE $\r\n",
         {"CMD a UID COPY $ Archive", "CMD b UID EXPUNGE $"}},
        {"saved result in search",
         "s SEARCH RETURN (SAVE MIN) $ (UID $ SMALLER 10)\r\n",
         {"CMD s SEARCH RETURN (SAVE MIN) $ (UID $ SMALLER 10)"}},
        {"bare LF accepted", "a NOOP\n", {"CMD a NOOP"}},
        // attacks and mistakes
        {"empty line", "\r\n", {"ERR bad []"}},
        {"missing tag", " NOOP\r\n", {"ERR bad []"}},
        {"plus in tag", "a+ NOOP\r\n", {"ERR bad []"}},
        {"tag only", "a1\r\n", {"ERR bad [a1]"}},
        {"unbalanced open", "a X (b\r\n", {"ERR bad [a]"}},
        {"unbalanced close", "a X b)\r\n", {"ERR bad [a]"}},
        {"unterminated quote", "a X \"abc\r\n", {"ERR bad [a]"}},
        {"bad escape", "a X \"a\\b\"\r\n", {"ERR bad [a]"}},
        {"literal not at end", "a X {3} y\r\n", {"ERR bad [a]"}},
        {"literal8 outside APPEND", "a LOGIN ~{3}\r\n", {"ERR bad [a]"}},
        {"literal8 in APPEND",
         std::string("a APPEND INBOX ~{3}\r\na\0b\r\n", 26),
         {"LIT 3 sync", std::string("CMD a APPEND INBOX {a\0b}", 24)}},
        {"literal size overflow", "a X {99999999999999999999}\r\n", {"ERR bad [a]"}},
        {"8bit in atom", "a X \xc3\xa9\r\n", {"ERR bad [a]"}},
        {"string literal over limit", "a LOGIN {6}\r\n", {"ERR toobig [a]"}, small_literals()},
        {"append literal over limit",
         "a APPEND INBOX {11}\r\n",
         {"ERR toobig [a]"},
         small_literals()},
        {"append literal at limit",
         "a APPEND INBOX {10}\r\n0123456789\r\n",
         {"LIT 10 sync", "CMD a APPEND INBOX {0123456789}"},
         small_literals()},
        // MULTIAPPEND (RFC 3502): the APPEND limit holds for all literals together.
        {"multiappend within limit",
         "a APPEND INBOX {4}\r\nabcd (\\Seen) {6}\r\nefghij\r\n",
         {"LIT 4 sync", "LIT 6 sync", "CMD a APPEND INBOX {abcd} (\\Seen) {efghij}"},
         small_literals()},
        {"multiappend over limit in total",
         "a APPEND INBOX {6}\r\nabcdef {5}\r\nb NOOP\r\n",
         {"LIT 6 sync", "ERR toobig [a]", "CMD b NOOP"},
         small_literals()},
        {"nonsync over the remaining budget is fatal",
         "a APPEND INBOX {9}\r\nabcdefghi {2+}\r\nxy\r\n",
         {"LIT 9 sync", "ERR fatal [a]", "ERR bad [xy]"},
         small_literals()},
        {"nonsync over limit is fatal",
         "a LOGIN {4+}\r\nabcd\r\n",
         {"ERR fatal [a]", "ERR bad [abcd]"},
         small_literals()},
        {"too deep", "a X (((a)))\r\n", {"ERR bad [a]"}, shallow()},
        {"depth at limit", "a X ((a))\r\n", {"CMD a X ((a))"}, shallow()},
        {"recovers after error", "a X (\r\nb NOOP\r\n", {"ERR bad [a]", "CMD b NOOP"}},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        for (std::size_t chunk : test::trickle_chunk_sizes(row.input)) {
            CAPTURE(chunk);
            auto got = run(row.input, chunk, row.limits);
            CHECK_MESSAGE(got == row.want, "got " << doctest::toString(got.size())
                                                  << " events: " << (got.empty() ? "" : got.front())
                                                  << " ... want "
                                                  << (row.want.empty() ? "" : row.want.front()));
        }
    }
}

TEST_CASE("imap parser: too many arguments is refused") {
    ImapLimits limits;
    limits.max_arguments = 100;
    std::string input = "a SEARCH";
    for (int i = 0; i < 200; ++i)
        input += " ALL";
    input += "\r\n";
    auto got = run(input, input.size(), limits);
    REQUIRE(got.size() == 1);
    CHECK_MESSAGE(got[0] == "ERR bad [a]", "got " << got[0]);
}

TEST_CASE("imap parser: Arg helpers") {
    Arg nil{Arg::Kind::Atom, "nil", {}};
    CHECK(nil.is_nil());
    Arg quoted_nil{Arg::Kind::Quoted, "NIL", {}};
    CHECK_FALSE(quoted_nil.is_nil());
    CHECK(Arg{Arg::Kind::Atom, "Body.Peek", {}}.is("BODY.PEEK"));
}

}  // namespace
}  // namespace postern::imap
