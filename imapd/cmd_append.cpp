// APPEND (RFC 9051 §6.3.12; APPENDUID from RFC 4315).
//   append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
// The literal has been read whole by the parser, bounded by
// max_literal_bytes (a larger one was refused with NO [TOOBIG] before any
// byte was read). A client that vanishes mid-literal never reaches here, so
// nothing is stored. The summary for later FETCHes is computed here, once.
#include "common/mail/message_summary.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_delivery.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"

namespace postern::imap {

namespace {

struct Appended : StoreOutcome {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
};

Appended append_message(const Account& account, DeliveryRequest req, const std::string& message) {
    Appended r;
    std::optional<store::MailboxIndex> index;
    if (!open_index(account.paths, index, r)) return r;
    auto box = index->find_mailbox(req.mailbox);
    if (!box) return r.set(box.error()), r;
    r.uidvalidity = box->uidvalidity;
    req.summary = mail::serialize(mail::summarize(message));
    auto uid = deliver_to_mailbox(account, req, message);
    if (!uid) return r.set(uid.error()), r;
    r.uid = *uid;
    r.ok = true;
    return r;
}

}  // namespace

void cmd_append(ImapSession& s, Command& cmd) {
    auto& a = cmd.args;
    if (a.size() < 2 || a.size() > 4 || a.back().kind != Arg::Kind::Literal)
        return s.bad(cmd, "APPEND expects a mailbox, optional flags and date, and a literal");
    auto name = mailbox_arg(a[0]);
    if (!name) return s.reply(cmd, "NO [CANNOT] Invalid mailbox name");
    DeliveryRequest req;
    req.mailbox = *name;
    req.max_bytes = s.context().limits.max_literal_bytes;
    std::size_t i = 1;
    if (i + 1 < a.size() && a[i].is_list()) {
        if (!parse_flags(a[i], req.flags)) return s.bad(cmd, "Invalid flag list");
        ++i;
    }
    if (i + 1 < a.size()) {
        auto date = a[i].is_string() ? parse_date_time(a[i].text) : std::nullopt;
        if (!date) return s.bad(cmd, "Invalid date-time");
        req.internal_date = *date;
        ++i;
    }
    if (i + 1 != a.size()) return s.bad(cmd, "Invalid APPEND arguments");
    if (a.back().text.empty()) return s.reply(cmd, "NO Empty message");
    Account account = *s.account();
    auto message = std::make_shared<std::string>(std::move(a.back().text));
    Command done = reply_to(cmd);
    s.run_blocking<Appended>(
        [account, req, message] { return append_message(account, req, *message); },
        [done](ImapSession& s, Appended& r) {
            if (!r.ok) {
                if (r.failure.code == store::StoreError::NotFound)
                    return s.reply(done, "NO [TRYCREATE] No such mailbox");
                return reply_failure(s, done, r.failure);
            }
            auto reply = [done, r](ImapSession& s) {
                s.reply(done, "OK [APPENDUID " + std::to_string(r.uidvalidity) + " " +
                                  std::to_string(r.uid) + "] APPEND completed");
            };
            // Appending to the selected mailbox shows up as EXISTS first.
            if (s.view()) return s.refresh_view(false, reply);
            reply(s);
        });
}

}  // namespace postern::imap
