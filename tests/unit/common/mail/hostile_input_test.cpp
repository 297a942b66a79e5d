// Named after the attack each case models: every one must finish fast,
// bounded, and produce syntactically complete output.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "common/mail/message_summary.h"

namespace postern::mail {

namespace {

// Counts "(" before the first non-"(" byte: the nesting depth of the first
// leaf in BODYSTRUCTURE.
std::size_t leading_parens(const std::string& s) {
    std::size_t n = 0;
    while (n < s.size() && s[n] == '(')
        ++n;
    return n;
}

bool balanced(const std::string& s) {
    long depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"') quoted = true;
        if (c == '(') ++depth;
        if (c == ')' && --depth < 0) return false;
    }
    return depth == 0 && !quoted;
}

std::string nested_multiparts(int levels) {
    std::string msg = "MIME-Version: 1.0\n";
    for (int i = 0; i < levels; ++i) {
        msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
               std::to_string(i) + "\n";
    }
    msg += "Content-Type: text/plain\n\ndeep\n";
    for (int i = levels - 1; i >= 0; --i)
        msg += "--b" + std::to_string(i) + "--\n";
    return msg;
}

std::string nested_messages(int levels) {
    std::string msg = "MIME-Version: 1.0\n";
    for (int i = 0; i < levels; ++i)
        msg += "Content-Type: message/rfc822\n\n";
    msg += "Subject: deepest\n\nx\n";
    return msg;
}

}  // namespace

TEST_CASE("depth_bomb: 10,000 nested multiparts stop at the limit, quickly") {
    const std::string msg = nested_multiparts(10000);
    auto start = std::chrono::steady_clock::now();
    MessageSummary s = summarize(msg);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(s.limited);
    // Depth 0..31 are multiparts, the container at depth 32 becomes a leaf.
    CHECK_MESSAGE(leading_parens(s.bodystructure) == 33, "got ", leading_parens(s.bodystructure),
                  ", want 33");
    CHECK(balanced(s.bodystructure));
    CHECK(balanced(s.body));
    CHECK(took < std::chrono::seconds(5));

    MimeLimits limits;
    limits.max_depth = 3;
    CHECK(leading_parens(summarize(msg, limits).bodystructure) == 4);
    CHECK(leading_parens(summarize(nested_multiparts(2), limits).bodystructure) == 3);
}

TEST_CASE("depth_bomb: 10,000 nested message/rfc822 stop at the limit") {
    MessageSummary s = summarize(nested_messages(10000));
    CHECK(s.limited);
    CHECK(balanced(s.bodystructure));
    CHECK(s.sections.size() <= 40);
    // A huge requested limit is clamped, so recursion stays bounded.
    MimeLimits limits;
    limits.max_depth = 1u << 30;
    CHECK(summarize(nested_messages(10000), limits).limited);
}

TEST_CASE("endless_boundary: a multipart whose parts never close") {
    std::string msg = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n";
    msg += "Content-Type: multipart/mixed; boundary=y\n\n--y\n\n";
    msg += std::string(1 << 20, 'a');
    MessageSummary s = summarize(msg);
    CHECK(balanced(s.bodystructure));
    CHECK(find_section(s, "1.1") != nullptr);
    CHECK(find_section(s, "1.1")->body_size == 1u << 20);
}

TEST_CASE("many_parts: a flood of empty parts is capped") {
    std::string msg = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n";
    for (int i = 0; i < 200000; ++i)
        msg += "--x\n";
    MessageSummary s = summarize(msg);
    CHECK(s.limited);
    CHECK(s.sections.size() <= 10002);
}

TEST_CASE("long_header_line: 1 MB header line and 1 MB address list") {
    std::string msg = "Subject: " + std::string(1 << 20, 'x') + "\nTo: ";
    for (int i = 0; i < 50000; ++i)
        msg += "a@b, ";
    msg += "\n\nbody\n";
    auto start = std::chrono::steady_clock::now();
    MessageSummary s = summarize(msg);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(s.envelope.size() > (1u << 20));
    CHECK(balanced(s.envelope));
}

TEST_CASE("encoded_word_flood and comment_bomb stay linear") {
    std::string subject;
    for (int i = 0; i < 100000; ++i)
        subject += "=?utf-8?q?";
    std::string decoded = decode_encoded_words(subject);
    CHECK(decoded.size() <= subject.size());
    std::string ct = "text/plain; a=" + std::string(100000, '(') + "b";
    auto parsed = parse_content_type(ct);
    CHECK(parsed.has_value());
    CHECK(parse_address_list(std::string(100000, '<')).size() <= 100000);
    CHECK(parse_address_list(std::string(100000, ':')).empty());
}

TEST_CASE("nul_bytes: NUL in headers and body never reach IMAP output") {
    std::string msg("Subject: a\0b\nFrom: x\0y@z\n\nbo\0dy\n", 32);
    MessageSummary s = summarize(msg);
    CHECK(s.envelope.find('\0') == std::string::npos);
    CHECK(s.bodystructure.find('\0') == std::string::npos);
    CHECK(s.size == msg.size());
    CHECK(parse_summary(serialize(s)).ok());
}

// The parser is not incremental (mda hands it the whole message), so the
// trickle discipline becomes: every truncation of a message must still parse
// into complete, balanced output with consistent sizes.
TEST_CASE("truncated_message: every prefix of a nested message renders") {
    const std::string msg =
        "MIME-Version: 1.0\r\nFrom: \"A, B\" <a@x>\r\nTo: G: c@y;\r\n"
        "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n"
        "Content-Type: text/plain; charset*=utf-8''%C3%A9\r\n\r\nhi\r\n--o\r\n"
        "Content-Type: message/rfc822\r\n\r\nSubject: =?utf-8?q?x?=\r\n"
        "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n"
        "--i--\r\n--o--\r\n";
    for (std::size_t n = 0; n <= msg.size(); ++n) {
        CAPTURE(n);
        MessageSummary s = summarize(msg.substr(0, n));
        REQUIRE(balanced(s.bodystructure));
        REQUIRE(balanced(s.body));
        REQUIRE(s.size == n);
        for (const SectionInfo& info : s.sections) {
            REQUIRE(info.body_offset + info.body_size <= n);
            REQUIRE(info.header_offset + info.header_size == info.body_offset);
        }
    }
}

TEST_CASE("garbage: arbitrary bytes never crash and always render") {
    std::uint32_t seed = 12345;
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return static_cast<char>((seed >> 16) & 0xff);
    };
    const std::string alphabet = "\r\n-:;=\"()<>@,\\ \tab?*'%";
    for (int round = 0; round < 300; ++round) {
        std::string msg = round % 2 == 0
                              ? "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=a\n\n"
                              : "";
        for (int i = 0; i < 400; ++i) {
            char c = next();
            msg += (static_cast<unsigned char>(c) % 3 == 0)
                       ? c
                       : alphabet[static_cast<unsigned char>(c) % alphabet.size()];
        }
        MessageSummary s = summarize(msg);
        CHECK(s.size == msg.size());
        auto back = parse_summary(serialize(s));
        REQUIRE(back.ok());
        CHECK(*back == s);
    }
}

}  // namespace postern::mail
