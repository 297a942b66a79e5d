// Helpers shared by the cmd_*.cpp handlers: the pool-side result shape, the
// one place a storage failure becomes a reply, and argument checks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "imapd/imap_parser.h"
#include "imapd/imap_session.h"
#include "imapd/seqset.h"
#include "storage/index_pool.h"
#include "storage/mailbox_index.h"
#include "storage/store_error.h"

namespace postern::imap {

// Base of every pool result: ok, or the storage failure.
struct StoreOutcome {
    bool ok = false;
    store::Failure failure;
    bool set(const store::Failure& f) {
        failure = f;
        return false;
    }
};

// Logs the detail (never shown to the client) and sends "tag NO [...] ...".
void reply_failure(ImapSession& s, const Command& cmd, const store::Failure& failure);

// The tag and name only: what a completion needs to answer.
inline Command reply_to(const Command& cmd) {
    return Command{cmd.tag, cmd.name, {}};
}

// The message-set argument of FETCH, STORE, COPY, MOVE and UID EXPUNGE, as
// sequence numbers of the view, ascending; on error the BAD reply is sent
// and nullopt returned. For sequence numbers, numbers past EXISTS are BAD.
// "$" is the SEARCHRES saved result (RFC 5182 §2.1): it names messages by
// UID whether or not the command is a UID one, and UIDs no longer in the
// view are skipped ("$" never "exceeds" the mailbox: expunged messages
// simply drop out).
std::optional<std::vector<std::uint32_t>> parse_message_set(ImapSession& s, const Command& cmd,
                                                            const Arg& arg, bool uid);

// The user's index for one pool job: a connection leased from the process's
// IndexPool (storage/index_pool.h), so a command neither opens index.db nor
// compiles its SQL again. False (and failure set) on error.
bool open_index(const store::UserPaths& paths, store::IndexLease& index, StoreOutcome& out);

}  // namespace postern::imap
