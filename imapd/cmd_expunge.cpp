// EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, §6.4.9 / RFC 4315): remove the
// \Deleted messages (of the UID set), then report them through the view's
// sync as "* n EXPUNGE", highest first.
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"

namespace postern::imap {

namespace {

struct Expunged : StoreOutcome {
    std::vector<store::MessageInfo> fresh;
};

// `only`: restrict to these UIDs (UID EXPUNGE); nullopt: every \Deleted.
void expunge(ImapSession& s, Command& cmd, std::optional<std::vector<std::uint32_t>> only) {
    if (s.view()->read_only()) return s.reply(cmd, "NO [READ-ONLY] Mailbox is read-only");
    store::UserPaths paths = s.account()->paths;
    std::string mailbox = s.view()->name();
    Command done = reply_to(cmd);
    s.run_blocking<Expunged>(
        [paths, mailbox, only] {
            Expunged r;
            store::IndexLease index;
            if (!open_index(paths, index, r)) return r;
            auto msgs = index->list_messages(mailbox);
            if (!msgs) return r.set(msgs.error()), r;
            std::vector<std::uint32_t> uids;
            for (const auto& m : *msgs) {
                if ((m.flags & store::kFlagDeleted) == 0) continue;
                if (only && !std::binary_search(only->begin(), only->end(), m.uid)) continue;
                uids.push_back(m.uid);
            }
            if (!uids.empty()) {
                auto gone = index->expunge(mailbox, uids);
                if (!gone) return r.set(gone.error()), r;
            }
            auto fresh = index->list_messages(mailbox);
            if (!fresh) return r.set(fresh.error()), r;
            r.fresh = std::move(*fresh);
            r.ok = true;
            return r;
        },
        [done](ImapSession& s, Expunged& r) {
            if (!r.ok) return reply_failure(s, done, r.failure);
            s.send(s.view()->sync(r.fresh, true));
            s.reply(done, "OK " + done.name + " completed");
        });
}

}  // namespace

void cmd_expunge(ImapSession& s, Command& cmd) {
    if (!cmd.args.empty()) return s.bad(cmd, "EXPUNGE takes no arguments");
    expunge(s, cmd, std::nullopt);
}

void cmd_uid_expunge(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 1) return s.bad(cmd, "UID EXPUNGE expects a UID set");
    auto seqs = parse_message_set(s, cmd, cmd.args[0], true);
    if (!seqs) return;
    std::vector<std::uint32_t> uids;
    for (std::uint32_t seq : *seqs)
        uids.push_back(s.view()->at(seq).uid);
    expunge(s, cmd, std::move(uids));
}

}  // namespace postern::imap
