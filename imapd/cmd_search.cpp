// SEARCH and UID SEARCH (RFC 9051 §6.4.4, ESEARCH RFC 4731, SEARCHRES
// RFC 5182):
//   SEARCH [RETURN (MIN MAX COUNT ALL SAVE)] [CHARSET UTF-8|US-ASCII] criteria
// Criteria are checked on the loop (BAD for bad syntax, NO [BADCHARSET] for
// charsets other than UTF-8 and US-ASCII), evaluated on the pool over the
// session's view of the mailbox; the answer is SEARCH or ESEARCH
// (search_result.h).
//
// SAVE (RFC 5182 §2.1): a successful search sets "$" to its result (UIDs);
// one answered NO (BADCHARSET, a storage failure) empties it; one answered
// BAD leaves it as it was, as does any search without SAVE. A command
// using "$" pipelined after the SAVE sees the new value: the session runs
// one command at a time (imap_session.h). parse_message_set()
// (imap_handlers.h) is where the other commands resolve "$".

#include "common/base/ascii.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/message_file.h"
#include "imapd/search_keys.h"
#include "imapd/search_result.h"

namespace postern::imap {

namespace {

struct Found : StoreOutcome {
    std::vector<std::uint32_t> numbers;  // UIDs or sequence numbers, ascending
    std::vector<std::uint32_t> uids;     // the same messages' UIDs
    std::vector<store::MessageInfo> fresh;
};

Found run_search(const store::UserPaths& paths, const std::string& mailbox, const SearchKey& key,
                 const std::vector<store::MessageInfo>& messages, bool uid) {
    Found r;
    store::IndexLease index;
    if (!open_index(paths, index, r)) return r;
    const bool needs_file = key.needs_file();
    // Header keys (FROM, SUBJECT, HEADER, SENT*) read the header block only.
    const MessageExtent extent = key.needs_body() ? MessageExtent::Whole : MessageExtent::Header;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        std::string file;
        if (needs_file) {
            auto read = read_stored_message(*index, mailbox, m, extent);
            if (!read) continue;  // expunged meanwhile
            file = std::move(*read);
        }
        auto seq = static_cast<std::uint32_t>(i + 1);
        SearchMessage text(file);
        if (!search_matches(key, seq, m, text)) continue;
        r.numbers.push_back(uid ? m.uid : seq);
        r.uids.push_back(m.uid);
    }
    auto fresh = index->list_messages(mailbox);
    if (!fresh) return r.set(fresh.error()), r;
    r.fresh = std::move(*fresh);
    r.ok = true;
    return r;
}

void search(ImapSession& s, Command& cmd, bool uid) {
    std::size_t pos = 0;
    auto ret = parse_search_return(cmd.args, pos, s.rev2());
    if (!ret) return s.bad(cmd, "Invalid RETURN options");
    if (pos + 1 < cmd.args.size() && cmd.args[pos].is("CHARSET")) {
        const Arg& charset = cmd.args[pos + 1];
        if (!charset.is_astring()) return s.bad(cmd, "Invalid CHARSET");
        if (!iequals(charset.text, "UTF-8") && !iequals(charset.text, "US-ASCII")) {
            if (ret->save) s.saved_result().clear();
            return s.reply(cmd, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
        }
        pos += 2;
    }
    const MailboxView& view = *s.view();
    SearchOptions options{s.saved_result().uids(), s.rev2()};
    auto key = parse_search(cmd.args, pos, view.exists(), view.max_uid(), options);
    if (!key) return s.bad(cmd, "Invalid search criteria");
    std::vector<store::MessageInfo> messages;
    messages.reserve(view.exists());
    for (std::uint32_t seq = 1; seq <= view.exists(); ++seq)
        messages.push_back(view.at(seq));
    store::UserPaths paths = s.account()->paths;
    std::string mailbox = view.name();
    Command done = reply_to(cmd);
    auto shared_key = std::make_shared<SearchKey>(std::move(*key));
    s.run_blocking<Found>([paths, mailbox, shared_key, messages = std::move(messages),
                           uid] { return run_search(paths, mailbox, *shared_key, messages, uid); },
                          [done, uid, ret = *ret](ImapSession& s, Found& r) {
                              if (ret.save) s.saved_result().clear();
                              if (!r.ok) return reply_failure(s, done, r.failure);
                              if (ret.save) s.saved_result().save(saved_subset(ret, r.uids));
                              if (ret.respond())
                                  s.untagged(search_response(ret, done.tag, uid, r.numbers));
                              s.send(s.view()->sync(r.fresh, uid));
                              s.reply(done, "OK " + done.name + " completed");
                          });
}

}  // namespace

void cmd_search(ImapSession& s, Command& cmd) {
    search(s, cmd, false);
}
void cmd_uid_search(ImapSession& s, Command& cmd) {
    search(s, cmd, true);
}

}  // namespace postern::imap
