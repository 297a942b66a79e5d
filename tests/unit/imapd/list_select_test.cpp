// LIST/LSUB arguments (RFC 5258 grammar) and the choice of listed names
// (RFC 9051 §6.3.9 table, RECURSIVEMATCH / CHILDINFO), plus STATUS items.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "imapd/list_select.h"

namespace postern::imap {
namespace {

Command parse(const std::string& line) {
    CommandParser parser{ImapLimits{}};
    ParseEvent ev = parser.feed_line(line);
    REQUIRE(std::holds_alternative<Command>(ev));
    return std::get<Command>(ev);
}

std::optional<ListRequest> list_request(const std::string& args, bool rev2 = false) {
    Command cmd = parse("a LIST " + args);
    return parse_list_command(cmd.args, false, NameEncoding::ModifiedUtf7, rev2);
}

store::MailboxInfo box(const char* name, bool subscribed = true, const char* special = "") {
    store::MailboxInfo b;
    b.name = name;
    b.subscribed = subscribed;
    b.special_use = special;
    return b;
}

// The listing as "name:attrs[:childinfo]" lines joined with "|".
std::string listing(const std::string& args, const std::vector<store::MailboxInfo>& boxes,
                    bool rev2 = false) {
    auto req = list_request(args, rev2);
    REQUIRE(req);
    std::string out;
    for (const ListEntry& e : select_mailboxes(*req, boxes, rev2)) {
        if (!out.empty()) out += '|';
        out += e.name + ":" + e.attributes;
        if (!e.childinfo.empty()) out += ":" + e.childinfo;
    }
    return out;
}

const std::vector<store::MailboxInfo> kBoxes = {
    box("INBOX"),
    box("Sent", true, "\\Sent"),
    box("Work/2024", false),
    box("Work/2024/Q1", true),
    box("Trash", false, "\\Trash"),
};

TEST_CASE("list: arguments") {
    struct Row {
        const char* args;
        bool ok;
    } rows[] = {
        {"\"\" *", true},
        {"() \"\" *", true},
        {"(SUBSCRIBED REMOTE) \"\" (INBOX Work/*) RETURN (CHILDREN SPECIAL-USE)", true},
        {"(SUBSCRIBED RECURSIVEMATCH) \"\" %", true},
        {"(RECURSIVEMATCH) \"\" %", false},  // RFC 5258 §3.1: not alone
        {"(REMOTE RECURSIVEMATCH) \"\" %", false},
        {"(BOGUS) \"\" %", false},
        {"\"\" % RETURN (STATUS (MESSAGES SIZE UIDNEXT))", true},
        {"\"\" % RETURN (STATUS (BOGUS))", false},
        {"\"\" % RETURN (STATUS ())", false},
        {"\"\" % RETURN (FROBNICATE)", false},
        {"\"\" ()", false},
        {"\"\"", false},
        {"\"\" % EXTRA", false},
    };
    for (const Row& r : rows) {
        CAPTURE(r.args);
        CHECK(list_request(r.args).has_value() == r.ok);
    }
    auto req = list_request("\"Work/\" (% \"*\") RETURN (SUBSCRIBED STATUS (MESSAGES UNSEEN))");
    REQUIRE(req);
    CHECK(req->patterns == std::vector<std::string>{"Work/%", "Work/*"});
    CHECK(req->return_subscribed);
    CHECK(req->status_items == std::vector<StatusItem>{StatusItem::Messages, StatusItem::Unseen});
    // RECENT exists only in IMAP4rev1.
    CHECK(list_request("\"\" % RETURN (STATUS (RECENT))", false).has_value());
    CHECK_FALSE(list_request("\"\" % RETURN (STATUS (RECENT))", true).has_value());
}

TEST_CASE("list: plain LIST lists existing names and the ancestors that lead to them") {
    struct Row {
        const char* args;
        const char* want;
    } rows[] = {
        {"\"\" %",
         "INBOX:\\HasNoChildren|Sent:\\HasNoChildren \\Sent|Trash:\\HasNoChildren \\Trash|"
         "Work:\\NonExistent \\Noselect \\HasChildren"},
        {"\"\" Work/%", "Work/2024:\\HasChildren"},
        {"Work/ %", "Work/2024:\\HasChildren"},
        {"\"\" Work/*", "Work/2024:\\HasChildren|Work/2024/Q1:\\HasNoChildren"},
        {"\"\" inbox", "INBOX:\\HasNoChildren"},
        {"\"\" (Sent Trash)", "Sent:\\HasNoChildren \\Sent|Trash:\\HasNoChildren \\Trash"},
        {"\"\" Nothing", ""},
        {"\"\" % RETURN (SUBSCRIBED)",
         "INBOX:\\HasNoChildren \\Subscribed|Sent:\\HasNoChildren \\Sent \\Subscribed|"
         "Trash:\\HasNoChildren \\Trash|Work:\\NonExistent \\Noselect \\HasChildren"},
    };
    for (const Row& r : rows) {
        CAPTURE(r.args);
        CHECK(listing(r.args, kBoxes) == r.want);
    }
    // IMAP4rev2: \NonExistent alone (it implies \Noselect).
    CHECK(listing("\"\" Work", kBoxes, true) == "Work:\\NonExistent \\HasChildren");
}

TEST_CASE("list: selection options and RECURSIVEMATCH") {
    struct Row {
        const char* args;
        const char* want;
    } rows[] = {
        {"(SUBSCRIBED) \"\" *",
         "INBOX:\\HasNoChildren \\Subscribed|Sent:\\HasNoChildren \\Sent \\Subscribed|"
         "Work/2024/Q1:\\HasNoChildren \\Subscribed"},
        {"(SUBSCRIBED) \"\" %",
         "INBOX:\\HasNoChildren \\Subscribed|Sent:\\HasNoChildren \\Sent \\Subscribed"},
        {"(SUBSCRIBED RECURSIVEMATCH) \"\" %",
         "INBOX:\\HasNoChildren \\Subscribed|Sent:\\HasNoChildren \\Sent \\Subscribed|"
         "Work:\\NonExistent \\HasChildren:\"SUBSCRIBED\""},
        {"(SUBSCRIBED RECURSIVEMATCH) \"\" Work/%", "Work/2024:\\HasChildren:\"SUBSCRIBED\""},
        {"(SPECIAL-USE) \"\" *", "Sent:\\HasNoChildren \\Sent|Trash:\\HasNoChildren \\Trash"},
        {"(SPECIAL-USE SUBSCRIBED) \"\" *", "Sent:\\HasNoChildren \\Sent \\Subscribed"},
        {"(REMOTE) \"\" Sent", "Sent:\\HasNoChildren \\Sent"},
    };
    for (const Row& r : rows) {
        CAPTURE(r.args);
        CHECK(listing(r.args, kBoxes) == r.want);
    }
}

TEST_CASE("list: LSUB and the response line") {
    Command cmd = parse("a LSUB \"\" *");
    auto req = parse_list_command(cmd.args, true, NameEncoding::ModifiedUtf7, false);
    REQUIRE(req);
    std::vector<ListEntry> entries = select_mailboxes(*req, kBoxes, false);
    REQUIRE(entries.size() == 3);
    CHECK(list_response(*req, entries[2], NameEncoding::ModifiedUtf7) ==
          "LSUB () \"/\" \"Work/2024/Q1\"");
    ListRequest plain;
    ListEntry e{"Ärger/Ü", true, "\\HasNoChildren", "\"SUBSCRIBED\""};
    CHECK(list_response(plain, e, NameEncoding::ModifiedUtf7) ==
          "LIST (\\HasNoChildren) \"/\" \"&AMQ-rger/&ANw-\" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
    CHECK(list_response(plain, e, NameEncoding::Utf8) ==
          "LIST (\\HasNoChildren) \"/\" \"Ärger/Ü\" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
}

TEST_CASE("status: items, counts and response") {
    Command cmd = parse("a STATUS INBOX (messages UNSEEN SIZE UIDNEXT UIDVALIDITY DELETED)");
    auto items = parse_status_items(cmd.args[1], true);
    REQUIRE(items);
    store::MailboxInfo b = box("INBOX");
    b.uidnext = 9;
    b.uidvalidity = 77;
    std::vector<store::MessageInfo> msgs(3);
    msgs[0].flags = store::kFlagSeen;
    msgs[0].size = 100;
    msgs[1].flags = store::kFlagDeleted;
    msgs[1].size = 20;
    msgs[2].size = 3;
    CHECK(status_response("INBOX", *items, count_status(b, msgs)) ==
          "STATUS INBOX (MESSAGES 3 UNSEEN 2 SIZE 123 UIDNEXT 9 UIDVALIDITY 77 DELETED 1)");
    for (const char* bad : {"a STATUS INBOX ()", "a STATUS INBOX (FOO)", "a STATUS INBOX MESSAGES",
                            "a STATUS INBOX (\"MESSAGES\")"}) {
        CAPTURE(bad);
        Command c = parse(bad);
        CHECK_FALSE(parse_status_items(c.args[1], false).has_value());
    }
}

}  // namespace
}  // namespace postern::imap
