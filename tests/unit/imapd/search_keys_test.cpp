// SEARCH criteria: syntax (BAD cases) and evaluation.
#include <doctest/doctest.h>

#include "imapd/imap_response.h"
#include "imapd/search_keys.h"

namespace postern::imap {
namespace {

std::vector<Arg> atoms(std::initializer_list<const char*> words) {
    std::vector<Arg> out;
    for (const char* w : words)
        out.push_back(Arg{Arg::Kind::Atom, w, {}});
    return out;
}

const std::string kMessage =
    "From: Alice <alice@example.test>\r\n"
    "Subject: Quarterly\r\n report\r\n"
    "\r\n"
    "The numbers are in.\r\n";

bool matches(std::vector<Arg> args, const store::MessageInfo& m, std::uint32_t seq = 1) {
    auto key = parse_search(args, 0, 10, 100);
    REQUIRE(key);
    return search_matches(*key, seq, m, kMessage);
}

TEST_CASE("search: criteria evaluation") {
    store::MessageInfo m;
    m.uid = 42;
    m.flags = store::kFlagSeen;
    m.size = 500;
    m.internal_date = *parse_date("5-Mar-2024") + 3600;
    CHECK(matches(atoms({"ALL"}), m));
    CHECK(matches(atoms({"SEEN"}), m));
    CHECK_FALSE(matches(atoms({"UNSEEN"}), m));
    CHECK(matches(atoms({"UID", "40:50"}), m));
    CHECK_FALSE(matches(atoms({"UID", "1:41"}), m));
    CHECK(matches(atoms({"1:*"}), m, 10));
    CHECK(matches(atoms({"FROM", "ALICE"}), m));
    CHECK(matches(atoms({"SUBJECT", "quarterly report"}), m));  // unfolded
    CHECK_FALSE(matches(atoms({"SUBJECT", "numbers"}), m));
    CHECK(matches(atoms({"BODY", "numbers"}), m));
    CHECK_FALSE(matches(atoms({"BODY", "Quarterly"}), m));
    CHECK(matches(atoms({"TEXT", "quarterly"}), m));
    CHECK(matches(atoms({"HEADER", "subject", "REPORT"}), m));
    CHECK(matches(atoms({"LARGER", "499"}), m));
    CHECK_FALSE(matches(atoms({"SMALLER", "500"}), m));
    CHECK(matches(atoms({"ON", "5-Mar-2024"}), m));
    CHECK(matches(atoms({"SINCE", "5-Mar-2024"}), m));
    CHECK(matches(atoms({"BEFORE", "6-Mar-2024"}), m));
    CHECK_FALSE(matches(atoms({"BEFORE", "5-Mar-2024"}), m));
    CHECK(matches(atoms({"NOT", "DELETED"}), m));
    CHECK(matches(atoms({"OR", "DELETED", "SEEN"}), m));
    CHECK_FALSE(matches(atoms({"SEEN", "DELETED"}), m));
    std::vector<Arg> list{Arg{Arg::Kind::List, "", atoms({"SEEN", "LARGER", "1"})}};
    CHECK(matches(list, m));
}

TEST_CASE("search: malformed criteria are refused") {
    const std::vector<std::vector<Arg>> bad = {
        atoms({}),
        atoms({"BOGUS"}),
        atoms({"FROM"}),
        atoms({"LARGER", "x"}),
        atoms({"SINCE", "32-Jan-2024"}),
        atoms({"SINCE", "1-Foo-2024"}),
        atoms({"OR", "SEEN"}),
        atoms({"UID", "0"}),
        atoms({"NOT"}),
    };
    for (const auto& args : bad) {
        CAPTURE(args.size());
        CHECK_FALSE(parse_search(args, 0, 10, 100).has_value());
    }
}

}  // namespace
}  // namespace postern::imap
