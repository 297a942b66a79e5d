// Mailbox management (RFC 9051 §6.3): NAMESPACE, CREATE, DELETE, RENAME,
// SUBSCRIBE, UNSUBSCRIBE, STATUS (with SIZE, RFC 8438). One personal
// namespace, hierarchy separator "/", names UTF-8 in the index and modified
// UTF-7 or UTF-8 on the wire (ImapSession::names()). LIST is cmd_list.cpp.
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"
#include "imapd/status_items.h"

namespace postern::imap {

namespace {

struct StatusData : StoreOutcome {
    StatusCounts counts;
};

}  // namespace

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
            store::IndexLease index;
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
    auto name = mailbox_arg(cmd.args[0], s.names());
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
    auto from = mailbox_arg(cmd.args[0], s.names());
    auto to = mailbox_arg(cmd.args[1], s.names());
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

// STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY UNSEEN [RECENT] SIZE DELETED)
void cmd_status(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 2) return s.bad(cmd, "STATUS expects a mailbox and a list of items");
    auto items = parse_status_items(cmd.args[1], s.rev2());
    if (!items) return s.bad(cmd, "Invalid STATUS items");
    auto name = mailbox_arg(cmd.args[0], s.names());
    if (!name) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    store::UserPaths paths = s.account()->paths;
    std::string n = *name;
    Command done = reply_to(cmd);
    s.run_blocking<StatusData>(
        [paths, n] {
            StatusData d;
            store::IndexLease index;
            if (!open_index(paths, index, d)) return d;
            auto box = index->find_mailbox(n);
            if (!box) return d.set(box.error()), d;
            auto msgs = index->list_messages(n);
            if (!msgs) return d.set(msgs.error()), d;
            d.counts = count_status(*box, *msgs);
            d.ok = true;
            return d;
        },
        [done, items = std::move(*items), n](ImapSession& s, StatusData& d) {
            if (!d.ok) return reply_failure(s, done, d.failure);
            s.untagged(status_response(wire_mailbox(n, s.names()), items, d.counts));
            s.reply(done, "OK STATUS completed");
        });
}

}  // namespace postern::imap
