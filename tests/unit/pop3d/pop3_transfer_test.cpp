// MessageTransfer and read_ahead() on plain files: the chunks a RETR sends
// must add up to exactly the wire form, with the status line in front and
// the terminator in the chunk marked last, for every size around the chunk
// boundary (where an off-by-one would send a chunk too many or too few).
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "pop3d/pop3_transfer.h"
#include "pop3d/pop3_wire.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace postern::pop3 {
namespace {

constexpr std::size_t kChunk = 64;

std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& content) {
    auto p = dir / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

std::string wire_of(const std::string& stored) {
    WireEncoder enc;
    std::string out;
    enc.feed(stored, out);
    enc.finish(out);
    return out;
}

std::uint64_t wire_size(const std::string& stored) {
    WireSizeCounter c;
    c.feed(stored);
    return c.finish();
}

// Every chunk of one RETR, concatenated; `jobs` counts the pool jobs it took.
std::string retrieve(const std::filesystem::path& file, int& jobs) {
    MaildropMessage m;
    m.path = file;
    MessageTransfer t(kChunk, std::nullopt);
    auto r = t.first("/nonexistent", store::User{}, m, "+OK x");
    jobs = 1;
    std::string out = r.data;
    while (!r.last && r.error == ChunkResult::Error::None && jobs < 1000) {
        r = t.next();
        ++jobs;
        out += r.data;
    }
    CHECK_MESSAGE(r.error == ChunkResult::Error::None, "got error " << r.detail);
    return out;
}

TEST_CASE("transfer: sizes around the chunk boundary, status line first, no empty last job") {
    postern::test::TempDir dir;
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, kChunk - 1, kChunk, kChunk + 1,
                             2 * kChunk, 2 * kChunk + 5, 10 * kChunk + 3}) {
        CAPTURE(size);
        std::string stored;
        for (std::size_t i = 0; i < size; ++i)
            stored += i % 10 == 9 ? '\n' : (i % 10 == 0 ? '.' : 'x');
        auto file = write_file(dir.path(), "m" + std::to_string(size), stored);
        int jobs = 0;
        std::string got = retrieve(file, jobs);
        std::string want = "+OK x\r\n" + wire_of(stored);
        CHECK_MESSAGE(got == want, "got " << got.size() << " bytes, want " << want.size());
        // ceil(size / chunk) reads, at least one: EOF is known from fstat.
        int want_jobs = size == 0 ? 1 : static_cast<int>((size + kChunk - 1) / kChunk);
        CHECK_MESSAGE(jobs == want_jobs, "got " << jobs << " jobs, want " << want_jobs);
    }
}

TEST_CASE("transfer: a vanished file is Gone and nothing is to be sent") {
    postern::test::TempDir dir;
    auto st = store::Store::open(dir.path() / "data", store::PasswordParams::minimum_for_test());
    REQUIRE(st.ok());
    REQUIRE(st->directory().add_domain("example.test").ok());
    auto user = st->add_user("bob@example.test", Secret<std::string>(std::string("pw pw pw pw")));
    REQUIRE(user.ok());
    MaildropMessage m;
    m.path = dir.path() / "no-such-file";
    m.info.uid = 1;
    m.info.file = "new/no-such-file";
    MessageTransfer t(kChunk, std::nullopt);
    auto r = t.first(dir.path() / "data", *user, m, "+OK x");
    CHECK_MESSAGE(r.error == ChunkResult::Error::Gone, "got " << static_cast<int>(r.error));
    CHECK_MESSAGE(r.data.empty(), "got " << r.data);
}

TEST_CASE("transfer: TOP stops reading once its lines are out") {
    postern::test::TempDir dir;
    std::string stored = "H: 1\r\n\r\nl1\r\n";
    while (stored.size() < 10 * kChunk)
        stored += "more body\r\n";
    auto file = write_file(dir.path(), "top", stored);
    MaildropMessage m;
    m.path = file;
    MessageTransfer t(kChunk, 1);
    auto r = t.first("/nonexistent", store::User{}, m, "+OK top");
    CHECK(r.last);
    CHECK_MESSAGE(r.data == "+OK top\r\nH: 1\r\n\r\nl1\r\n.\r\n", "got " << r.data);
}

TEST_CASE("read_ahead: whole replies in order while they fit the budget") {
    postern::test::TempDir dir;
    std::vector<std::string> stored = {"a: 1\n\n.x\n", "b: 2\r\n\r\nyy\r\n", std::string(200, 'z'),
                                       "d: 4\r\n\r\n"};
    std::vector<ReadAheadCandidate> cands;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        cands.push_back({i + 1, write_file(dir.path(), "f" + std::to_string(i), stored[i]),
                         wire_size(stored[i])});
    }
    struct Row {
        const char* name;
        std::size_t budget;
        std::size_t want_count;
    };
    std::uint64_t first_two = cands[0].wire_size + cands[1].wire_size;
    for (const Row& row : {Row{"all_fit", 10000, 4}, Row{"exactly_two", first_two, 2},
                           Row{"one_byte_short", first_two - 1, 1}, Row{"none", 3, 0}}) {
        CAPTURE(row.name);
        auto got = read_ahead(cands, row.budget);
        REQUIRE_MESSAGE(got.size() == row.want_count,
                        "got " << got.size() << ", want " << row.want_count);
        for (std::size_t i = 0; i < got.size(); ++i) {
            CHECK(got[i].index == i + 1);
            std::string w =
                "+OK " + std::to_string(cands[i].wire_size) + " octets\r\n" + wire_of(stored[i]);
            CHECK_MESSAGE(got[i].reply == w, "got " << got[i].reply << ", want " << w);
        }
    }
}

TEST_CASE("read_ahead: stops at a message it cannot read") {
    postern::test::TempDir dir;
    std::vector<ReadAheadCandidate> cands = {
        {1, write_file(dir.path(), "f1", "x\r\n"), 3},
        {2, dir.path() / "gone", 3},
        {3, write_file(dir.path(), "f3", "y\r\n"), 3},
    };
    auto got = read_ahead(cands, 1000);
    REQUIRE_MESSAGE(got.size() == 1, "got " << got.size() << ", want 1");
    CHECK(got[0].index == 1);
}

}  // namespace
}  // namespace postern::pop3
