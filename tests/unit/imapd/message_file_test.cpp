// read_message(): the header extent ends where the index's parser says the
// header ends, however the file is split into reads.
#include "imapd/message_file.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "common/mail/header_parser.h"
#include "tests/support/temp_dir.h"

namespace postern::imap {
namespace {

std::filesystem::path write_file(const test::TempDir& dir, const std::string& bytes) {
    auto path = dir.path() / "msg";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

TEST_CASE("message file: header extent is the parser's header block") {
    const std::string long_field = "X-Long: " + std::string(40000, 'a') + "\r\n";
    struct Row {
        const char* name;
        std::string file;
    };
    const Row rows[] = {
        {"crlf", "Subject: a\r\nFrom: b\r\n\r\nbody\r\n\r\nmore\r\n"},
        {"bare lf", "Subject: a\nFrom: b\n\nbody\n"},
        {"no header", "\r\nbody only\r\n"},
        {"no separator", "Subject: a\r\nFrom: b\r\n"},
        {"empty file", ""},
        {"header past one read", long_field + "Subject: x\r\n\r\n" + std::string(70000, 'b')},
        {"blank line at a read boundary",
         "X: " + std::string(16 * 1024 - 7, 'c') + "\r\n\r\n" + std::string(100, 'd')},
        {"huge header, no separator", long_field + long_field + long_field},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        test::TempDir dir;
        auto path = write_file(dir, row.file);
        auto header = read_message(path, MessageExtent::Header);
        REQUIRE(header);
        const auto block = mail::parse_header_block(row.file);
        const std::string want = row.file.substr(0, block.size);
        CHECK_MESSAGE(*header == want, "got ", header->size(), " bytes, want ", want.size());
        auto whole = read_message(path, MessageExtent::Whole);
        REQUIRE(whole);
        CHECK_MESSAGE(*whole == row.file, "got ", whole->size(), " bytes, want ", row.file.size());
    }
}

TEST_CASE("message file: a missing file is nullopt") {
    test::TempDir dir;
    CHECK_FALSE(read_message(dir.path() / "gone", MessageExtent::Whole));
    CHECK_FALSE(read_message(dir.path() / "gone", MessageExtent::Header));
}

}  // namespace
}  // namespace postern::imap
