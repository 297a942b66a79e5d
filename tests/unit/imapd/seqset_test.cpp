// Sequence sets: parsing, "*" resolution, and the bounded-work guarantee.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "imapd/seqset.h"

namespace postern::imap {
namespace {

std::string show(const std::vector<SeqRange>& ranges) {
    std::string out;
    for (const SeqRange& r : ranges) {
        if (!out.empty()) out += ',';
        out += std::to_string(r.lo);
        if (r.hi != r.lo) out += ':' + std::to_string(r.hi);
    }
    return out;
}

TEST_CASE("seqset: parse and resolve") {
    struct Row {
        const char* text;
        std::uint32_t largest;
        const char* want;  // nullptr: parse error
    } rows[] = {
        {"1", 10, "1"},
        {"1:3,5", 10, "1:3,5"},
        {"3:1", 10, "1:3"},
        {"1:*", 10, "1:10"},
        {"*", 10, "10"},
        {"*:4", 10, "4:10"},
        {"5,1:3,2,4", 10, "1:5"},
        {"10:12,13:*", 5, "5:13"},  // "*" resolved before merging
        {"1:*", 0, ""},             // empty mailbox
        {"1:4294967295", 3, "1:4294967295"},
        {"0", 10, nullptr},
        {"1:0", 10, nullptr},
        {"", 10, nullptr},
        {"1,", 10, nullptr},
        {",1", 10, nullptr},
        {"1::2", 10, nullptr},
        {"4294967296", 10, nullptr},
        {"01", 10, nullptr},
        {"a", 10, nullptr},
        {"$", 10, nullptr},
    };
    for (const Row& row : rows) {
        CAPTURE(row.text);
        auto set = SeqSet::parse(row.text, 1000);
        if (row.want == nullptr) {
            CHECK_MESSAGE(!set.ok(), "got a set, want a parse error");
            continue;
        }
        REQUIRE_MESSAGE(set.ok(), "got a parse error, want " << row.want);
        std::string got = show(set->resolve(row.largest));
        CHECK_MESSAGE(got == std::string(row.want), "got " << got << ", want " << row.want);
    }
}

TEST_CASE("seqset: exceeds flags numbers past the largest, not *") {
    CHECK(SeqSet::parse("1:5", 10)->exceeds(4));
    CHECK_FALSE(SeqSet::parse("1:4", 10)->exceeds(4));
    CHECK_FALSE(SeqSet::parse("1:*", 10)->exceeds(0));
    CHECK_FALSE(SeqSet::parse("3:*", 10)->exceeds(2));
    CHECK(SeqSet::parse("3:*,7", 10)->exceeds(2));
}

TEST_CASE("seqset: too many ranges is refused") {
    std::string text;
    for (int i = 1; i <= 11; ++i)
        text += (i > 1 ? "," : "") + std::to_string(i * 2);
    CHECK_FALSE(SeqSet::parse(text, 10).ok());
    CHECK(SeqSet::parse(text, 11).ok());
}

TEST_CASE("seqset: a million ranges cost a sort, not a quadratic walk") {
    std::string text;
    text.reserve(16u << 20);
    constexpr std::uint32_t kRanges = 1000000;
    // Descending, so that a naive insert-in-order would be quadratic.
    for (std::uint32_t i = kRanges; i >= 1; --i) {
        text += std::to_string(i * 3);
        text += ':';
        text += std::to_string(i * 3 + 1);
        if (i > 1) text += ',';
    }
    auto start = std::chrono::steady_clock::now();
    auto set = SeqSet::parse(text, kRanges);
    REQUIRE(set.ok());
    auto ranges = set->resolve(4000000);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK_MESSAGE(ranges.size() == kRanges, "got " << ranges.size() << " ranges, want " << kRanges);
    CHECK(contains(ranges, 3));
    CHECK_FALSE(contains(ranges, 5));
    CHECK(contains(ranges, 3000001));
    // Generous even under sanitizers; quadratic would take hours.
    CHECK_MESSAGE(took < std::chrono::seconds(20), "took too long");
}

}  // namespace
}  // namespace postern::imap
