// COPY, MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8; RFC 6851;
// RFC 4315 COPYUID). Each message is re-delivered through MessageWriter with
// its flags, internal date and cached summary. If any copy fails, the
// copies already made are expunged again, so COPY is all or nothing.
// MOVE then expunges the sources and reports them before its tagged OK.

#include "imapd/imap_commands.h"
#include "imapd/imap_delivery.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"
#include "imapd/message_file.h"

namespace postern::imap {

namespace {

struct Copied : StoreOutcome {
    std::uint32_t uidvalidity = 0;
    std::vector<std::uint32_t> src_uids;
    std::vector<std::uint32_t> dst_uids;
    std::vector<store::MessageInfo> fresh;
};

bool copy_one(store::MailboxIndex& index, const Account& account, const std::string& from,
              const std::string& to, const store::MessageInfo& m, std::uint64_t max_bytes,
              Copied& r) {
    auto data = read_stored_message(index, from, m, MessageExtent::Whole);
    if (!data) return true;  // expunged meanwhile: skip it
    auto summary = index.summary(from, m.uid);
    DeliveryRequest req{to, m.flags & ~store::kFlagDeleted, m.internal_date,
                        summary ? *summary : std::string(), max_bytes};
    auto uid = deliver_to_mailbox(account, index, req, *data);
    if (!uid) return r.set(uid.error());
    r.src_uids.push_back(m.uid);
    r.dst_uids.push_back(*uid);
    return true;
}

Copied copy_messages(const Account& account, const std::string& from, const std::string& to,
                     const std::vector<store::MessageInfo>& messages, std::uint64_t max_bytes,
                     bool move) {
    Copied r;
    store::IndexLease index;
    if (!open_index(account.paths, index, r)) return r;
    auto dest = index->find_mailbox(to);
    if (!dest) return r.set(dest.error()), r;
    r.uidvalidity = dest->uidvalidity;
    for (const store::MessageInfo& m : messages) {
        if (copy_one(*index, account, from, to, m, max_bytes, r)) continue;
        // All or nothing: take back what was copied.
        if (!r.dst_uids.empty()) (void)index->expunge(to, r.dst_uids);
        return r;
    }
    if (move && !r.src_uids.empty()) {
        auto gone = index->expunge(from, r.src_uids);
        if (!gone) return r.set(gone.error()), r;
    }
    auto fresh = index->list_messages(from);
    if (!fresh) return r.set(fresh.error()), r;
    r.fresh = std::move(*fresh);
    r.ok = true;
    return r;
}

void copy(ImapSession& s, Command& cmd, bool uid, bool move) {
    if (cmd.args.size() != 2) return s.bad(cmd, "Expected a sequence set and a mailbox");
    auto seqs = parse_message_set(s, cmd, cmd.args[0], uid);
    if (!seqs) return;
    auto to = mailbox_arg(cmd.args[1], s.names());
    if (!to) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    if (move && s.view()->read_only()) return s.reply(cmd, "NO [READ-ONLY] Mailbox is read-only");
    std::vector<store::MessageInfo> messages;
    for (std::uint32_t seq : *seqs)
        messages.push_back(s.view()->at(seq));
    Account account = *s.account();
    std::string from = s.view()->name();
    std::string dest = *to;
    std::uint64_t max_bytes = s.context().limits.max_literal_bytes;
    Command done = reply_to(cmd);
    s.run_blocking<Copied>(
        [account, from, dest, messages, max_bytes, move] {
            return copy_messages(account, from, dest, messages, max_bytes, move);
        },
        [done, move](ImapSession& s, Copied& r) {
            if (!r.ok) {
                if (r.failure.code == store::StoreError::NotFound)
                    return s.reply(done, "NO [TRYCREATE] No such mailbox");
                return reply_failure(s, done, r.failure);
            }
            std::string code;
            if (!r.src_uids.empty())
                code = "[COPYUID " + std::to_string(r.uidvalidity) + " " +
                       uid_set_text(r.src_uids) + " " + uid_set_text(r.dst_uids) + "] ";
            if (move) {
                if (!code.empty()) s.untagged("OK " + code + "Moved");
                s.send(s.view()->sync(r.fresh, true));
                s.reply(done, "OK " + done.name + " completed");
                return;
            }
            s.send(s.view()->sync(r.fresh, done.name.rfind("UID", 0) == 0));
            s.reply(done, "OK " + code + done.name + " completed");
        });
}

}  // namespace

void cmd_copy(ImapSession& s, Command& cmd) {
    copy(s, cmd, false, false);
}
void cmd_uid_copy(ImapSession& s, Command& cmd) {
    copy(s, cmd, true, false);
}
void cmd_move(ImapSession& s, Command& cmd) {
    copy(s, cmd, false, true);
}
void cmd_uid_move(ImapSession& s, Command& cmd) {
    copy(s, cmd, true, true);
}

}  // namespace postern::imap
