// Mailbox management (RFC 9051 §6.3): LIST, LSUB, NAMESPACE, CREATE,
// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS. One personal namespace,
// hierarchy separator "/", names UTF-8 in the index and modified UTF-7 on
// the wire. LIST always includes the RFC 6154 special-use attributes and
// \HasChildren/\HasNoChildren (RFC 3348), which RFC 9051 allows unasked.
#include <algorithm>
#include <map>
#include <set>

#include "common/base/ascii.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"
#include "imapd/mutf7.h"

namespace postern::imap {

namespace {

// list-mailbox wildcards: "*" matches anything, "%" anything but "/".
// Dynamic programming: O(pattern x name), no backtracking blow-up.
bool wildcard_match(std::string_view pattern, std::string_view name) {
    std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
    prev[0] = 1;
    for (char p : pattern) {
        cur.assign(name.size() + 1, 0);
        if (p == '*' || p == '%') {
            cur[0] = prev[0];
            for (std::size_t j = 1; j <= name.size(); ++j)
                cur[j] = prev[j] || (cur[j - 1] && (p == '*' || name[j - 1] != '/'));
        } else {
            for (std::size_t j = 1; j <= name.size(); ++j)
                cur[j] = prev[j - 1] && name[j - 1] == p;
        }
        std::swap(prev, cur);
    }
    return prev[name.size()] != 0;
}

bool match_name(const std::string& pattern, const std::string& name) {
    // INBOX is case-insensitive (RFC 9051 §5.1); so is a pattern's "INBOX" prefix.
    if (name == "INBOX" || istarts_with(name, "INBOX/")) {
        std::string p = pattern;
        if (istarts_with(p, "INBOX")) p.replace(0, 5, "INBOX");
        return wildcard_match(p, name);
    }
    return wildcard_match(pattern, name);
}

struct Listing : StoreOutcome {
    std::vector<store::MailboxInfo> boxes;
};

struct ListRequest {
    bool lsub = false;
    bool subscribed_only = false;   // LIST (SUBSCRIBED)
    bool special_use_only = false;  // LIST (SPECIAL-USE)
    bool return_subscribed = false;
    std::string pattern;
};

std::string list_line(const ListRequest& req, const std::string& name, const std::string& attrs) {
    return std::string(req.lsub ? "LSUB (" : "LIST (") + attrs + ") \"/\" " + wire_mailbox(name);
}

void write_listing(ImapSession& s, const ListRequest& req,
                   const std::vector<store::MailboxInfo>& boxes) {
    std::map<std::string, const store::MailboxInfo*> by_name;
    for (const auto& b : boxes)
        by_name[b.name] = &b;
    // Every ancestor of an existing name appears too (as \NonExistent when
    // it is not a mailbox itself), so that "%" can walk the tree.
    std::set<std::string> names;
    for (const auto& b : boxes) {
        names.insert(b.name);
        for (std::size_t p = b.name.find('/'); p != std::string::npos; p = b.name.find('/', p + 1))
            names.insert(b.name.substr(0, p));
    }
    for (const std::string& name : names) {
        if (!match_name(req.pattern, name)) continue;
        auto it = by_name.find(name);
        const store::MailboxInfo* box = it == by_name.end() ? nullptr : it->second;
        bool subscribed = box != nullptr && box->subscribed;
        if ((req.lsub || req.subscribed_only) && !subscribed) continue;
        if (req.special_use_only && (box == nullptr || box->special_use.empty())) continue;
        auto next = names.upper_bound(name);
        bool children = next != names.end() && next->rfind(name + "/", 0) == 0;
        std::string attrs = box == nullptr ? "\\NonExistent \\Noselect" : "";
        auto add = [&attrs](std::string_view a) {
            if (!attrs.empty()) attrs += ' ';
            attrs += a;
        };
        if (!req.lsub) add(children ? "\\HasChildren" : "\\HasNoChildren");
        if (box != nullptr && !box->special_use.empty()) add(box->special_use);
        if (subscribed && (req.return_subscribed || req.subscribed_only)) add("\\Subscribed");
        s.untagged(list_line(req, name, attrs));
    }
}

void run_list(ImapSession& s, Command& cmd, ListRequest req) {
    store::UserPaths paths = s.account()->paths;
    Command done = reply_to(cmd);
    s.run_blocking<Listing>(
        [paths] {
            Listing l;
            std::optional<store::MailboxIndex> index;
            if (!open_index(paths, index, l)) return l;
            auto boxes = index->list_mailboxes();
            if (!boxes) {
                l.set(boxes.error());
                return l;
            }
            l.boxes = std::move(*boxes);
            l.ok = true;
            return l;
        },
        [done, req](ImapSession& s, Listing& l) {
            if (!l.ok) return reply_failure(s, done, l.failure);
            write_listing(s, req, l.boxes);
            s.reply(done, std::string("OK ") + (req.lsub ? "LSUB" : "LIST") + " completed");
        });
}

// LIST [(selection-options)] reference mailbox [RETURN (return-options)]
bool parse_list(Command& cmd, ListRequest& req) {
    std::size_t i = 0;
    auto& a = cmd.args;
    if (!req.lsub && i < a.size() && a[i].is_list()) {
        for (const Arg& o : a[i].list) {
            if (o.is("SUBSCRIBED"))
                req.subscribed_only = true;
            else if (o.is("SPECIAL-USE"))
                req.special_use_only = true;
            else if (!o.is("RECURSIVEMATCH") && !o.is("REMOTE"))
                return false;
        }
        ++i;
    }
    if (i + 2 > a.size() || !a[i].is_astring() || !a[i + 1].is_astring()) return false;
    std::string ref = a[i].text;
    std::string pat = a[i + 1].text;
    i += 2;
    if (!req.lsub && i + 2 == a.size() && a[i].is("RETURN") && a[i + 1].is_list()) {
        for (const Arg& o : a[i + 1].list)
            if (o.is("SUBSCRIBED")) req.return_subscribed = true;
        i += 2;
    }
    if (i != a.size()) return false;
    // RFC 9051 §6.3.9: the reference is a prefix of the pattern.
    std::string joined = ref + pat;
    auto decoded = mutf7_decode(joined);
    req.pattern = decoded ? *decoded : joined;
    return true;
}

}  // namespace

void cmd_list(ImapSession& s, Command& cmd) {
    ListRequest req;
    if (!parse_list(cmd, req)) return s.bad(cmd, "Invalid LIST arguments");
    if (req.pattern.empty()) {
        // The hierarchy delimiter request (RFC 9051 §6.3.9).
        s.untagged("LIST (\\Noselect) \"/\" \"\"");
        s.reply(cmd, "OK LIST completed");
        return;
    }
    run_list(s, cmd, std::move(req));
}

void cmd_lsub(ImapSession& s, Command& cmd) {
    ListRequest req;
    req.lsub = true;
    if (!parse_list(cmd, req)) return s.bad(cmd, "Invalid LSUB arguments");
    run_list(s, cmd, std::move(req));
}

void cmd_namespace(ImapSession& s, Command& cmd) {
    s.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
    s.reply(cmd, "OK NAMESPACE completed");
}

namespace {

using IndexOp = std::function<store::StoreStatus(store::MailboxIndex&)>;

// One mailbox-changing call on the pool, answered with OK or the failure.
void run_simple(ImapSession& s, Command& cmd, IndexOp op, std::string ok_text) {
    store::UserPaths paths = s.account()->paths;
    Command done = reply_to(cmd);
    s.run_blocking<StoreOutcome>(
        [paths, op = std::move(op)] {
            StoreOutcome r;
            std::optional<store::MailboxIndex> index;
            if (!open_index(paths, index, r)) return r;
            auto st = op(*index);
            if (!st) return r.set(st.error()), r;
            r.ok = true;
            return r;
        },
        [done, ok_text](ImapSession& s, StoreOutcome& r) {
            if (!r.ok) return reply_failure(s, done, r.failure);
            s.reply(done, "OK " + ok_text);
        });
}

std::optional<std::string> one_mailbox(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 1) {
        s.bad(cmd, "Expected one mailbox name");
        return std::nullopt;
    }
    auto name = mailbox_arg(cmd.args[0]);
    if (!name) s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    return name;
}

}  // namespace

void cmd_create(ImapSession& s, Command& cmd) {
    auto name = one_mailbox(s, cmd);
    if (!name) return;
    std::string n = *name;
    // A trailing separator only says the client wants children (RFC 9051 §6.3.4).
    if (!n.empty() && n.back() == '/') n.pop_back();
    run_simple(
        s, cmd,
        [n](store::MailboxIndex& i) -> store::StoreStatus {
            auto r = i.create_mailbox(n);
            if (!r) return fail(r.error());
            return {};
        },
        "CREATE completed");
}

void cmd_delete(ImapSession& s, Command& cmd) {
    auto name = one_mailbox(s, cmd);
    if (!name) return;
    std::string n = *name;
    if (s.view() && s.view()->name() == n) s.enter(State::Authenticated);
    run_simple(
        s, cmd, [n](store::MailboxIndex& i) { return i.delete_mailbox(n); }, "DELETE completed");
}

void cmd_rename(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 2) return s.bad(cmd, "Expected two mailbox names");
    auto from = mailbox_arg(cmd.args[0]);
    auto to = mailbox_arg(cmd.args[1]);
    if (!from || !to) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    std::string f = *from, t = *to;
    run_simple(
        s, cmd, [f, t](store::MailboxIndex& i) { return i.rename_mailbox(f, t); },
        "RENAME completed");
}

void cmd_subscribe(ImapSession& s, Command& cmd) {
    auto name = one_mailbox(s, cmd);
    if (!name) return;
    std::string n = *name;
    run_simple(
        s, cmd, [n](store::MailboxIndex& i) { return i.set_subscribed(n, true); },
        "SUBSCRIBE completed");
}

void cmd_unsubscribe(ImapSession& s, Command& cmd) {
    auto name = one_mailbox(s, cmd);
    if (!name) return;
    std::string n = *name;
    run_simple(
        s, cmd, [n](store::MailboxIndex& i) { return i.set_subscribed(n, false); },
        "UNSUBSCRIBE completed");
}

namespace {

struct StatusData : StoreOutcome {
    store::MailboxInfo box;
    std::uint64_t messages = 0;
    std::uint64_t unseen = 0;
    std::uint64_t deleted = 0;
    std::uint64_t size = 0;
};

}  // namespace

// STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT SIZE DELETED)
void cmd_status(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 2 || !cmd.args[1].is_list() || cmd.args[1].list.empty())
        return s.bad(cmd, "STATUS expects a mailbox and a list of items");
    std::vector<std::string> items;
    for (const Arg& a : cmd.args[1].list) {
        if (!a.is_atom()) return s.bad(cmd, "Invalid STATUS item");
        std::string item = a.text;
        for (char& c : item)
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        static const std::set<std::string> kKnown = {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
                                                     "RECENT",   "SIZE",    "DELETED"};
        if (kKnown.count(item) == 0) return s.bad(cmd, "Unknown STATUS item " + item);
        items.push_back(item);
    }
    auto name = mailbox_arg(cmd.args[0]);
    if (!name) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    store::UserPaths paths = s.account()->paths;
    std::string n = *name;
    Command done = reply_to(cmd);
    s.run_blocking<StatusData>(
        [paths, n] {
            StatusData d;
            std::optional<store::MailboxIndex> index;
            if (!open_index(paths, index, d)) return d;
            auto box = index->find_mailbox(n);
            if (!box) return d.set(box.error()), d;
            auto msgs = index->list_messages(n);
            if (!msgs) return d.set(msgs.error()), d;
            d.box = *box;
            for (const auto& m : *msgs) {
                ++d.messages;
                if ((m.flags & store::kFlagSeen) == 0) ++d.unseen;
                if ((m.flags & store::kFlagDeleted) != 0) ++d.deleted;
                d.size += m.size;
            }
            d.ok = true;
            return d;
        },
        [done, items, n](ImapSession& s, StatusData& d) {
            if (!d.ok) return reply_failure(s, done, d.failure);
            std::string out;
            for (const std::string& item : items) {
                std::uint64_t v = item == "MESSAGES"      ? d.messages
                                  : item == "UIDNEXT"     ? d.box.uidnext
                                  : item == "UIDVALIDITY" ? d.box.uidvalidity
                                  : item == "UNSEEN"      ? d.unseen
                                  : item == "SIZE"        ? d.size
                                  : item == "DELETED"     ? d.deleted
                                                          : 0;
                if (!out.empty()) out += ' ';
                out += item + " " + std::to_string(v);
            }
            s.untagged("STATUS " + wire_mailbox(n) + " (" + out + ")");
            s.reply(done, "OK STATUS completed");
        });
}

}  // namespace postern::imap
