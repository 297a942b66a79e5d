// LIST and LSUB (RFC 9051 §6.3.9, RFC 5258 LIST-EXTENDED, RFC 5819
// LIST-STATUS). Parsing and the choice of names are pure (list_select.h);
// here the index is read on the pool, with the message lists of the listed
// mailboxes when RETURN (STATUS ...) asks for counts, and each LIST line is
// followed by its STATUS line (RFC 5819 §2).
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/list_select.h"

namespace postern::imap {

namespace {

struct Listing : StoreOutcome {
    std::vector<ListEntry> entries;
    std::vector<std::optional<StatusCounts>> status;  // per entry, LIST-STATUS only
};

Listing list_on_pool(const store::UserPaths& paths, const ListRequest& req, bool rev2) {
    Listing l;
    store::IndexLease index;
    if (!open_index(paths, index, l)) return l;
    auto boxes = index->list_mailboxes();
    if (!boxes) return l.set(boxes.error()), l;
    l.entries = select_mailboxes(req, *boxes, rev2);
    if (!req.status_items.empty()) {
        for (const ListEntry& e : l.entries) {
            std::optional<StatusCounts> counts;
            // A mailbox deleted meanwhile just gets no STATUS line.
            if (!e.exists) {
                l.status.push_back(counts);
                continue;
            }
            auto box = index->find_mailbox(e.name);
            if (box) {
                auto msgs = index->list_messages(e.name);
                if (msgs) counts = count_status(*box, *msgs);
            }
            l.status.push_back(counts);
        }
    }
    l.ok = true;
    return l;
}

void run_list(ImapSession& s, Command& cmd, ListRequest req) {
    store::UserPaths paths = s.account()->paths;
    Command done = reply_to(cmd);
    bool rev2 = s.rev2();
    auto shared = std::make_shared<ListRequest>(std::move(req));
    s.run_blocking<Listing>(
        [paths, shared, rev2] { return list_on_pool(paths, *shared, rev2); },
        [done, shared](ImapSession& s, Listing& l) {
            if (!l.ok) return reply_failure(s, done, l.failure);
            for (std::size_t i = 0; i < l.entries.size(); ++i) {
                s.untagged(list_response(*shared, l.entries[i], s.names()));
                if (i < l.status.size() && l.status[i])
                    s.untagged(status_response(wire_mailbox(l.entries[i].name, s.names()),
                                               shared->status_items, *l.status[i]));
            }
            s.reply(done, std::string("OK ") + (shared->lsub ? "LSUB" : "LIST") + " completed");
        });
}

}  // namespace

void cmd_list(ImapSession& s, Command& cmd) {
    auto req = parse_list_command(cmd.args, false, s.names(), s.rev2());
    if (!req) return s.bad(cmd, "Invalid LIST arguments");
    if (req->delimiter_query() && !req->has_selection()) {
        // The hierarchy delimiter request (RFC 9051 §6.3.9).
        s.untagged("LIST (\\Noselect) \"/\" \"\"");
        s.reply(cmd, "OK LIST completed");
        return;
    }
    run_list(s, cmd, std::move(*req));
}

void cmd_lsub(ImapSession& s, Command& cmd) {
    auto req = parse_list_command(cmd.args, true, s.names(), s.rev2());
    if (!req) return s.bad(cmd, "Invalid LSUB arguments");
    run_list(s, cmd, std::move(*req));
}

}  // namespace postern::imap
