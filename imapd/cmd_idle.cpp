// IDLE (RFC 2177, RFC 9051 §6.3.13): "+ idling", then updates as the
// ChangeHub reports changes to the user's index, until the client's DONE.
// The session-level logic (waiting for DONE, refreshing on wake-ups) is in
// imap_session.cpp; this is the command's entry point.
#include "imapd/imap_commands.h"
#include "imapd/imap_session.h"

namespace postern::imap {

void cmd_idle(ImapSession& s, Command& cmd) {
    if (!cmd.args.empty()) return s.bad(cmd, "IDLE takes no arguments");
    s.start_idle(Command{cmd.tag, cmd.name, {}});
}

}  // namespace postern::imap
