// MailboxView: sequence mapping and the untagged updates sync() produces.
#include <doctest/doctest.h>

#include "imapd/mailbox_view.h"

namespace postern::imap {
namespace {

std::vector<store::MessageInfo> messages(std::initializer_list<std::uint32_t> uids,
                                         store::Flags flags = 0) {
    std::vector<store::MessageInfo> out;
    for (std::uint32_t u : uids) {
        store::MessageInfo m;
        m.uid = u;
        m.flags = flags;
        out.push_back(m);
    }
    return out;
}

TEST_CASE("mailbox view: select by sequence and by UID") {
    MailboxView view({}, messages({3, 5, 9, 20}), false);
    auto seqs = view.select(*SeqSet::parse("2:*", 10), false);
    CHECK(seqs == std::vector<std::uint32_t>{2, 3, 4});
    auto uids = view.select(*SeqSet::parse("4:9,100", 10), true);
    CHECK(uids == std::vector<std::uint32_t>{2, 3});
    // RFC 9051 §6.4.9: "UID 21:*" still returns the highest message.
    CHECK(view.select(*SeqSet::parse("21:*", 10), true) == std::vector<std::uint32_t>{4});
    CHECK(view.select(*SeqSet::parse("1:4294967295", 10), true).size() == 4);
    CHECK(view.seq_of(9) == 3);
    CHECK(view.seq_of(4) == 0);
}

TEST_CASE("mailbox view: sync reports expunges highest first, flags, then EXISTS") {
    MailboxView view({}, messages({1, 2, 3, 4}), false);
    auto fresh = messages({1, 3, 5, 6});
    fresh[1].flags = store::kFlagSeen;
    std::string got = view.sync(fresh, true);
    std::string want =
        "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\n* 2 FETCH (UID 3 FLAGS (\\Seen))\r\n* 4 EXISTS\r\n";
    CHECK_MESSAGE(got == want, "got " << got << "want " << want);
    CHECK(view.exists() == 4);
    CHECK(view.at(2).uid == 3);
    CHECK(view.sync(fresh, true).empty());
}

TEST_CASE("mailbox view: without expunge permission vanished messages keep their numbers") {
    MailboxView view({}, messages({1, 2, 3}), false);
    std::string got = view.sync(messages({1, 3, 4}), false);
    CHECK_MESSAGE(got == "* 4 EXISTS\r\n", "got " << got);
    CHECK(view.exists() == 4);
    CHECK(view.vanished(2));
    got = view.sync(messages({1, 3, 4}), true);
    CHECK_MESSAGE(got == "* 2 EXPUNGE\r\n", "got " << got);
    CHECK(view.exists() == 3);
}

}  // namespace
}  // namespace postern::imap
