#include "common/mail/mime_parser.h"

#include <doctest/doctest.h>

#include <string>

namespace postern::mail {

TEST_CASE("mime tree: offsets, sizes, lines and Content-* fields per part") {
    const std::string msg =
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=b\n"
        "\n"
        "--b\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Disposition: inline\n"
        "\n"
        "one\n"
        "two\n"
        "--b\n"
        "Content-Type: image/png; name=a.png\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "iVBO\n"
        "--b--\n";
    MimeTree tree = parse_mime(msg);
    const MimePart& root = tree.root;
    CHECK(root.kind == PartKind::Multipart);
    CHECK(root.header_offset == 0);
    CHECK(root.body_offset == msg.find("--b\n"));
    REQUIRE(root.children.size() == 2);
    CHECK(tree.part_count == 3);
    CHECK_FALSE(tree.limited);

    const MimePart& text = root.children[0];
    CHECK(text.is_text());
    CHECK(text.subtype == "plain");
    CHECK(text.disposition == "inline");
    CHECK(msg.substr(text.body_offset, text.body_size()) == "one\ntwo");
    CHECK(text.body_lines == 1);
    CHECK(text.body_size_crlf == 8);
    CHECK(msg.substr(text.header_offset, 4) == "Cont");

    const MimePart& image = root.children[1];
    CHECK_FALSE(image.is_text());
    CHECK(image.encoding == "base64");
    REQUIRE(image.params.size() == 1);
    CHECK(image.params[0].value == "a.png");
    CHECK(msg.substr(image.body_offset, image.body_size()) == "iVBO");
    REQUIRE(!image.header.empty());
    CHECK(msg.substr(image.header[0].offset, 13) == "Content-Type:");
}

TEST_CASE("mime tree: first Content-* occurrence wins") {
    const std::string msg =
        "MIME-Version: 1.0\nContent-Type: text/html\nContent-Type: image/gif\n"
        "Content-ID: <a>\nContent-ID: <b>\n\nx";
    MimeTree tree = parse_mime(msg);
    CHECK(tree.root.subtype == "html");
    CHECK(tree.root.id == "<a>");
}

TEST_CASE("mime tree: require_mime_version can be turned off") {
    const std::string msg = "Content-Type: text/html\n\nx";
    CHECK(parse_mime(msg).root.subtype == "plain");
    MimeLimits limits;
    limits.require_mime_version = false;
    CHECK(parse_mime(msg, limits).root.subtype == "html");
}

TEST_CASE("mime tree: a boundary that is a prefix of another line is not a delimiter") {
    const std::string msg =
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\n\n--bb is text\n--b--\n";
    MimeTree tree = parse_mime(msg);
    REQUIRE(tree.root.children.size() == 1);
    const MimePart& p = tree.root.children[0];
    CHECK(msg.substr(p.body_offset, p.body_size()) == "--bb is text");
}

TEST_CASE("mime tree: max_parts stops splitting; the rest stays in the last part") {
    std::string msg = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n";
    for (int i = 0; i < 50; ++i)
        msg += "--b\n\npart\n";
    msg += "--b--\n";
    MimeLimits limits;
    limits.max_parts = 10;
    MimeTree tree = parse_mime(msg, limits);
    CHECK(tree.limited);
    CHECK(tree.root.children.size() == 10);
    CHECK(parse_mime(msg).root.children.size() == 50);
}

}  // namespace postern::mail
