#include "storage/maildir.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <set>

#include "tests/support/temp_dir.h"

namespace postern::store {

TEST_CASE("maildir: flags to letters and back") {
    struct Row {
        Flags flags;
        const char* letters;
    };
    const Row kRows[] = {
        {0, ""},
        {kFlagSeen, "S"},
        {kFlagSeen | kFlagFlagged, "FS"},
        {kAllFlags, "DFPRST"},
        {kFlagDeleted | kFlagDraft | kFlagAnswered, "DRT"},
    };
    for (const auto& row : kRows) {
        CAPTURE(row.letters);
        CHECK_MESSAGE(flags_to_letters(row.flags) == row.letters, "got ",
                      flags_to_letters(row.flags), ", want ", row.letters);
        CHECK(flags_from_letters(row.letters) == row.flags);
    }
    CHECK(flags_from_letters("Sa1z") == kFlagSeen);  // unknown keyword letters ignored
}

TEST_CASE("maildir: unique names do not repeat") {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        auto name = unique_base_name();
        CHECK(name.find('/') == std::string::npos);
        CHECK(name.find(':') == std::string::npos);
        CHECK(name.find(',') == std::string::npos);
        CHECK_MESSAGE(seen.insert(name).second, "got a repeated name ", name);
    }
}

TEST_CASE("maildir: delivery names carry size and uid") {
    std::string base = "1700000000.M123P45Q1R00ff.host";
    auto n = delivery_name(base, 1234, 42);
    CHECK(n == base + ",S=1234,U=42");
    auto parsed = parse_maildir_name(n);
    CHECK(parsed.base == base);
    CHECK(parsed.size == std::optional<std::uint64_t>(1234));
    CHECK(parsed.uid == std::optional<std::uint32_t>(42));
    CHECK_FALSE(parsed.has_info);

    auto c = cur_name(base, 7, 9, kFlagSeen | kFlagAnswered);
    CHECK(c == base + ",S=7,U=9:2,RS");
    parsed = parse_maildir_name(c);
    CHECK(parsed.uid == std::optional<std::uint32_t>(9));
    CHECK(parsed.flags == (kFlagSeen | kFlagAnswered));
    CHECK(parsed.has_info);
    CHECK(with_flags(c, kFlagFlagged) == base + ",S=7,U=9:2,F");
    CHECK(with_flags(n, 0) == n + ":2,");
}

TEST_CASE("maildir: foreign and broken names") {
    auto plain = parse_maildir_name("1234.5678.otherhost");
    CHECK(plain.base == "1234.5678.otherhost");
    CHECK_FALSE(plain.uid.has_value());
    CHECK_FALSE(plain.size.has_value());
    auto dovecot = parse_maildir_name("1234.M1P2.host,S=10,W=12:2,S");
    CHECK(dovecot.size == std::optional<std::uint64_t>(10));
    CHECK(dovecot.flags == kFlagSeen);
    for (const char* bad : {"x,U=", "x,U=abc", "x,U=0", "x,U=99999999999", "x,U=-1", "x,U=1x"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_maildir_name(bad).uid.has_value());
    }
}

}  // namespace postern::store

namespace postern::store {

TEST_CASE("maildir: only stale files in tmp/ are removed") {
    test::TempDir tmp;
    auto dir = tmp.path() / "box";
    REQUIRE(create_maildir(dir, true).ok());
    CHECK(std::filesystem::exists(dir / "maildirfolder"));
    auto touch = [](const std::filesystem::path& p, std::time_t mtime) {
        FILE* f = std::fopen(p.c_str(), "w");
        std::fclose(f);
        struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
        utimensat(AT_FDCWD, p.c_str(), times, 0);
    };
    std::time_t now = std::time(nullptr);
    touch(dir / "tmp" / "old", now - kStaleTmpAge.count() - 60);
    touch(dir / "tmp" / "fresh", now - 60);
    touch(dir / "new" / "old-but-delivered", now - kStaleTmpAge.count() - 60);
    auto removed = remove_stale_tmp(dir);
    REQUIRE(removed.ok());
    CHECK_MESSAGE(*removed == 1, "got ", *removed, " removed, want 1");
    CHECK_FALSE(std::filesystem::exists(dir / "tmp" / "old"));
    CHECK(std::filesystem::exists(dir / "tmp" / "fresh"));
    CHECK(std::filesystem::exists(dir / "new" / "old-but-delivered"));
}

}  // namespace postern::store
