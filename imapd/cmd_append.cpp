// APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502); APPENDUID from
// RFC 4315.
//   append         = "APPEND" SP mailbox 1*append-message
//   append-message = [SP flag-list] [SP date-time] SP literal
// The literals have been read whole by the parser, bounded by
// max_literal_bytes for the command as a whole (a larger one was refused
// with NO [TOOBIG] before any byte was read). A client that vanishes
// mid-literal never reaches here, so nothing is stored. The summary for
// later FETCHes is computed here, once.
//
// MULTIAPPEND is all or nothing (RFC 3502 §6.3.11): the messages are
// written one by one, and if one fails the ones already written are
// expunged again before the NO; no EXISTS for them is ever sent, since the
// selected mailbox is refreshed only after success.
#include <memory>

#include "common/mail/message_summary.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_delivery.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"

namespace postern::imap {

namespace {

struct AppendMessage {
    store::Flags flags = 0;
    std::int64_t internal_date = 0;  // 0: now
    std::string text;
};

struct Appended : StoreOutcome {
    std::uint32_t uidvalidity = 0;
    std::vector<std::uint32_t> uids;
};

// Takes back what a failed MULTIAPPEND wrote; the failure that caused it
// is what the client hears about.
void roll_back(store::MailboxIndex& index, const std::string& mailbox,
               const std::vector<std::uint32_t>& uids) {
    if (!uids.empty()) (void)index.expunge(mailbox, uids);
}

Appended append_messages(const Account& account, const std::string& mailbox,
                         std::uint64_t max_bytes, const std::vector<AppendMessage>& messages) {
    Appended r;
    store::IndexLease index;
    if (!open_index(account.paths, index, r)) return r;
    auto box = index->find_mailbox(mailbox);
    if (!box) return r.set(box.error()), r;
    r.uidvalidity = box->uidvalidity;
    for (const AppendMessage& m : messages) {
        DeliveryRequest req;
        req.mailbox = mailbox;
        req.flags = m.flags;
        req.internal_date = m.internal_date;
        req.max_bytes = max_bytes;
        req.summary = mail::serialize(mail::summarize(m.text));
        auto uid = deliver_to_mailbox(account, *index, req, m.text);
        if (!uid) {
            roll_back(*index, mailbox, r.uids);
            r.uids.clear();
            return r.set(uid.error()), r;
        }
        r.uids.push_back(*uid);
    }
    r.ok = true;
    return r;
}

// args[1..]: one or more append-message groups. Returns the BAD text on error.
std::optional<std::string> parse_messages(std::vector<Arg>& a, std::vector<AppendMessage>& out) {
    std::size_t i = 1;
    while (i < a.size()) {
        AppendMessage m;
        if (a[i].is_list()) {
            if (!parse_flags(a[i], m.flags)) return "Invalid flag list";
            ++i;
        }
        if (i + 1 < a.size() && a[i].is_string()) {
            auto date = parse_date_time(a[i].text);
            if (date) {
                m.internal_date = *date;
                ++i;
            }
        }
        if (i >= a.size() || a[i].kind != Arg::Kind::Literal)
            return "APPEND expects optional flags and date, then a literal";
        m.text = std::move(a[i].text);
        ++i;
        out.push_back(std::move(m));
    }
    if (out.empty()) return "APPEND expects a mailbox and a message";
    return std::nullopt;
}

}  // namespace

void cmd_append(ImapSession& s, Command& cmd) {
    auto& a = cmd.args;
    if (a.size() < 2) return s.bad(cmd, "APPEND expects a mailbox and a message");
    auto name = mailbox_arg(a[0], s.names());
    if (!name) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    auto messages = std::make_shared<std::vector<AppendMessage>>();
    if (auto error = parse_messages(a, *messages)) return s.bad(cmd, *error);
    for (const AppendMessage& m : *messages)
        if (m.text.empty()) return s.reply(cmd, "NO Empty message");
    Account account = *s.account();
    std::string mailbox = *name;
    std::uint64_t max_bytes = s.context().limits.max_literal_bytes;
    Command done = reply_to(cmd);
    s.run_blocking<Appended>(
        [account, mailbox, max_bytes, messages] {
            return append_messages(account, mailbox, max_bytes, *messages);
        },
        [done](ImapSession& s, Appended& r) {
            if (!r.ok) {
                if (r.failure.code == store::StoreError::NotFound)
                    return s.reply(done, "NO [TRYCREATE] No such mailbox");
                return reply_failure(s, done, r.failure);
            }
            std::string code =
                "APPENDUID " + std::to_string(r.uidvalidity) + " " + uid_set_text(r.uids);
            auto reply = [done, code](ImapSession& s) {
                s.reply(done, "OK [" + code + "] APPEND completed");
            };
            // Appending to the selected mailbox shows up as EXISTS first.
            if (s.view()) return s.refresh_view(false, reply);
            reply(s);
        });
}

}  // namespace postern::imap
