// SELECT, EXAMINE, CLOSE, UNSELECT, CHECK (RFC 9051 §6.3.2, §6.3.3,
// §6.4.1, §6.4.2, RFC 3691). SELECT loads the message list once; the
// session's MailboxView is the seq<->UID map from then on. Every change of
// state here also empties the SEARCHRES "$" (ImapSession::enter()).
#include "common/log/log.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"
#include "imapd/list_select.h"

namespace postern::imap {

namespace {

constexpr const char* kFlags = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)";

struct Selected : StoreOutcome {
    store::MailboxInfo box;
    std::vector<store::MessageInfo> messages;
    std::optional<ListEntry> list;  // IMAP4rev2 only
};

void select(ImapSession& s, Command& cmd, bool read_only) {
    if (cmd.args.size() != 1) return s.bad(cmd, "Expected one mailbox name");
    auto name = mailbox_arg(cmd.args[0], s.names());
    if (!name) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    // Selecting always leaves the old mailbox first, even if this fails.
    if (s.state() == State::Selected) {
        s.untagged("OK [CLOSED] Previous mailbox closed");
        s.enter(State::Authenticated);
    }
    store::UserPaths paths = s.account()->paths;
    std::string n = *name;
    const bool rev2 = s.rev2();
    // As the client wrote it (UTF-8 in IMAP4rev2), for OLDNAME.
    std::string given = cmd.args[0].text;
    Command done = reply_to(cmd);
    s.run_blocking<Selected>(
        [paths, n, rev2] {
            Selected r;
            store::IndexLease index;
            if (!open_index(paths, index, r)) return r;
            auto box = index->find_mailbox(n);
            if (!box) return r.set(box.error()), r;
            auto msgs = index->list_messages(n);
            if (!msgs) return r.set(msgs.error()), r;
            if (rev2) {
                auto boxes = index->list_mailboxes();
                if (!boxes) return r.set(boxes.error()), r;
                r.list = mailbox_entry(box->name, *boxes);
            }
            r.box = std::move(*box);
            r.messages = std::move(*msgs);
            r.ok = true;
            return r;
        },
        [done, read_only, given](ImapSession& s, Selected& r) {
            if (!r.ok) return reply_failure(s, done, r.failure);
            std::uint32_t first_unseen = 0;
            for (std::size_t i = 0; i < r.messages.size() && first_unseen == 0; ++i)
                if ((r.messages[i].flags & store::kFlagSeen) == 0)
                    first_unseen = static_cast<std::uint32_t>(i + 1);
            std::size_t count = r.messages.size();
            store::MailboxInfo box = r.box;
            s.view().emplace(r.box, std::move(r.messages), read_only);
            s.enter(State::Selected);
            s.untagged(std::string("FLAGS ") + kFlags);
            s.untagged(std::string("OK [PERMANENTFLAGS ") + (read_only ? "()" : kFlags) +
                       "] Flags permitted");
            s.untagged(std::to_string(count) + " EXISTS");
            // IMAP4rev2 dropped \Recent and the UNSEEN code (RFC 9051 App. E).
            if (!s.rev2()) s.untagged("0 RECENT");
            if (first_unseen != 0 && !s.rev2())
                s.untagged("OK [UNSEEN " + std::to_string(first_unseen) + "] First unseen");
            s.untagged("OK [UIDVALIDITY " + std::to_string(box.uidvalidity) + "] UIDs valid");
            s.untagged("OK [UIDNEXT " + std::to_string(box.uidnext) + "] Predicted next UID");
            // IMAP4rev2 requires a LIST response for the mailbox, with
            // OLDNAME when the name given is not its canonical form (RFC
            // 9051 §6.3.2); IMAP4rev1 clients do not expect one.
            if (r.list) s.untagged(selected_list_response(*r.list, given, s.names()));
            s.reply(done, read_only ? "OK [READ-ONLY] EXAMINE completed"
                                    : "OK [READ-WRITE] SELECT completed");
        });
}

struct Expunged : StoreOutcome {};

}  // namespace

void cmd_select(ImapSession& s, Command& cmd) {
    select(s, cmd, false);
}
void cmd_examine(ImapSession& s, Command& cmd) {
    select(s, cmd, true);
}

void cmd_unselect(ImapSession& s, Command& cmd) {
    if (!cmd.args.empty()) return s.bad(cmd, "UNSELECT takes no arguments");
    s.enter(State::Authenticated);
    s.reply(cmd, "OK UNSELECT completed");
}

// CLOSE: expunge \Deleted silently (no EXPUNGE responses), then leave.
void cmd_close(ImapSession& s, Command& cmd) {
    if (!cmd.args.empty()) return s.bad(cmd, "CLOSE takes no arguments");
    if (s.view()->read_only()) {
        s.enter(State::Authenticated);
        return s.reply(cmd, "OK CLOSE completed");
    }
    store::UserPaths paths = s.account()->paths;
    std::string n = s.view()->name();
    Command done = reply_to(cmd);
    s.run_blocking<Expunged>(
        [paths, n] {
            Expunged r;
            store::IndexLease index;
            if (!open_index(paths, index, r)) return r;
            auto msgs = index->list_messages(n);
            if (!msgs) return r.set(msgs.error()), r;
            std::vector<std::uint32_t> uids;
            for (const auto& m : *msgs)
                if ((m.flags & store::kFlagDeleted) != 0) uids.push_back(m.uid);
            if (!uids.empty()) {
                auto gone = index->expunge(n, uids);
                if (!gone) return r.set(gone.error()), r;
            }
            r.ok = true;
            return r;
        },
        [done](ImapSession& s, Expunged& r) {
            s.enter(State::Authenticated);
            if (!r.ok) return reply_failure(s, done, r.failure);
            s.reply(done, "OK CLOSE completed");
        });
}

void cmd_check(ImapSession& s, Command& cmd) {
    Command done = reply_to(cmd);
    s.refresh_view(true, [done](ImapSession& s) { s.reply(done, "OK CHECK completed"); });
}

}  // namespace postern::imap
