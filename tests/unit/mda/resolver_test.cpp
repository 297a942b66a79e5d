// Resolution table: exact user, plus-addressing, aliases (nested, loops),
// catch-all, case rules, and lookup failures.
#include <doctest/doctest.h>

#include "tests/unit/mda/fake_lookup.h"

namespace postern::mda::testing {
namespace {

FakeLookup directory() {
    FakeLookup d;
    d.add_user("alice@example.org");
    d.add_user("Bob@example.org");
    d.add_user("carol@example.org");
    d.folders = {"alice@example.org/lists", "alice@example.org/Sent"};
    d.aliases["team@example.org"] = {"alice@example.org", "bob@example.org"};
    d.aliases["all@example.org"] = {"team@example.org", "carol@example.org", "alice@example.org"};
    d.aliases["loop1@example.org"] = {"loop2@example.org"};
    d.aliases["loop2@example.org"] = {"loop1@example.org"};
    d.aliases["loopy@example.org"] = {"loopy2@example.org", "carol@example.org"};
    d.aliases["loopy2@example.org"] = {"loopy@example.org"};
    d.aliases["fwd@example.org"] = {"someone@remote.example", "alice@example.org"};
    d.aliases["remote-only@example.org"] = {"someone@remote.example"};
    d.aliases["alias+x@example.org"] = {"carol@example.org"};
    // A chain 11 deep: chain0 -> chain1 -> ... -> chain11 -> alice.
    for (int i = 0; i < 11; ++i) {
        d.aliases["chain" + std::to_string(i) + "@example.org"] = {"chain" + std::to_string(i + 1) +
                                                                   "@example.org"};
    }
    d.aliases["chain11@example.org"] = {"alice@example.org"};
    return d;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += "[" + s + "] ";
    return out;
}

// "user@domain/mailbox" for each target, or "!status" on failure.
std::vector<std::string> run(FakeLookup& d, const std::string& address,
                             ResolverOptions options = {}) {
    auto r = resolve(d, address, options);
    if (!r) return {std::string("!") + status_name(r.error().status)};
    std::vector<std::string> out;
    for (const auto& t : *r)
        out.push_back(t.user.address() + "/" + t.mailbox);
    return out;
}

struct Row {
    const char* name;
    const char* address;
    std::vector<std::string> want;
};

TEST_CASE("resolver: table") {
    const Row rows[] = {
        {"exact user", "alice@example.org", {"alice@example.org/INBOX"}},
        {"domain case-insensitive", "alice@EXAMPLE.Org", {"alice@example.org/INBOX"}},
        {"local part case-insensitive", "ALICE@example.org", {"alice@example.org/INBOX"}},
        {"spelling of the user is kept", "bob@example.org", {"Bob@example.org/INBOX"}},
        {"plus tag to an existing folder", "alice+lists@example.org", {"alice@example.org/lists"}},
        {"plus tag to a missing folder goes to INBOX",
         "alice+nope@example.org",
         {"alice@example.org/INBOX"}},
        {"empty tag", "alice+@example.org", {"alice@example.org/INBOX"}},
        {"leading delimiter is not a tag", "+alice@example.org", {"!unknown_user"}},
        {"unknown user", "nobody@example.org", {"!unknown_user"}},
        {"unknown domain", "alice@other.example", {"!unknown_user"}},
        {"not an address", "alice", {"!unknown_user"}},
        {"alias one-to-many",
         "team@example.org",
         {"alice@example.org/INBOX", "Bob@example.org/INBOX"}},
        {"alias with a plus tag resolves as the alias",
         "team+x@example.org",
         {"alice@example.org/INBOX", "Bob@example.org/INBOX"}},
        {"an alias spelled with its tag wins", "alias+x@example.org", {"carol@example.org/INBOX"}},
        {"nested aliases, duplicates once",
         "all@example.org",
         {"alice@example.org/INBOX", "Bob@example.org/INBOX", "carol@example.org/INBOX"}},
        {"pure alias loop", "loop1@example.org", {"!unknown_user"}},
        {"loop with a real member still delivers",
         "loopy@example.org",
         {"carol@example.org/INBOX"}},
        {"nesting past the depth limit", "chain0@example.org", {"!mail_loop"}},
        {"nesting at the depth limit", "chain2@example.org", {"alice@example.org/INBOX"}},
        {"remote alias targets are skipped", "fwd@example.org", {"alice@example.org/INBOX"}},
        {"only remote targets", "remote-only@example.org", {"!unknown_user"}},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        FakeLookup d = directory();
        auto got = run(d, row.address);
        CHECK_MESSAGE(got == row.want, "got " << join(got) << ", want " << join(row.want));
    }
}

TEST_CASE("resolver: catch-all") {
    FakeLookup d = directory();
    d.catch_alls["example.org"] = {"carol@example.org"};
    CHECK(run(d, "whoever@example.org") == std::vector<std::string>{"carol@example.org/INBOX"});
    CHECK(run(d, "alice@example.org") == std::vector<std::string>{"alice@example.org/INBOX"});
    // A catch-all pointing at an unknown address of its own domain ends.
    d.catch_alls["example.org"] = {"ghost@example.org"};
    CHECK(run(d, "whoever@example.org") == std::vector<std::string>{"!unknown_user"});
}

TEST_CASE("resolver: case-sensitive local parts") {
    FakeLookup d = directory();
    ResolverOptions options;
    options.local_part_case_sensitive = true;
    CHECK(run(d, "alice@example.org", options) ==
          std::vector<std::string>{"alice@example.org/INBOX"});
    CHECK(run(d, "Alice@example.org", options) == std::vector<std::string>{"!unknown_user"});
    CHECK(run(d, "Bob@example.org", options) == std::vector<std::string>{"Bob@example.org/INBOX"});
    CHECK(run(d, "alice@EXAMPLE.ORG", options) ==
          std::vector<std::string>{"alice@example.org/INBOX"});
}

TEST_CASE("resolver: other delimiters") {
    FakeLookup d = directory();
    ResolverOptions options;
    options.delimiters = "-+";
    CHECK(run(d, "alice-lists@example.org", options) ==
          std::vector<std::string>{"alice@example.org/lists"});
    options.delimiters = "";
    CHECK(run(d, "alice+lists@example.org", options) == std::vector<std::string>{"!unknown_user"});
}

TEST_CASE("resolver: a failing lookup is a temporary failure, never unknown user") {
    FakeLookup d = directory();
    d.fail_lookups = true;
    CHECK(run(d, "alice@example.org") == std::vector<std::string>{"!temp_fail"});
}

TEST_CASE("resolver: split_local_part") {
    CHECK(split_local_part("a+b+c", "+").base == "a");
    CHECK(split_local_part("a+b+c", "+").tag == "b+c");
    CHECK(split_local_part("a-b+c", "+-").base == "a");
    CHECK(split_local_part("abc", "+").tag.empty());
}

}  // namespace
}  // namespace postern::mda::testing
