// The IMAP command table (STYLE.md §6): each row names the command, its
// handler and the states it is allowed in. The dispatcher applies the state
// rule once; handlers never re-check it. "UID FETCH" etc. are rows of their
// own (the dispatcher joins UID with its sub-command).
#pragma once

#include <string_view>

#include "imapd/imap_parser.h"

namespace postern::imap {

class ImapSession;

using Handler = void (*)(ImapSession&, Command&);

enum StateMask : unsigned {
    kNotAuthenticated = 1u << 0,
    kAuthenticated = 1u << 1,
    kSelected = 1u << 2,
    kAnyState = kNotAuthenticated | kAuthenticated | kSelected,
    kAuthed = kAuthenticated | kSelected,
};

struct CommandSpec {
    std::string_view name;
    Handler handler;
    unsigned states;
};

// nullptr for an unknown command.
const CommandSpec* find_command(std::string_view name);

// cmd_auth.cpp
void cmd_capability(ImapSession&, Command&);
void cmd_noop(ImapSession&, Command&);
void cmd_logout(ImapSession&, Command&);
void cmd_starttls(ImapSession&, Command&);
void cmd_login(ImapSession&, Command&);
void cmd_authenticate(ImapSession&, Command&);
void cmd_id(ImapSession&, Command&);
void cmd_enable(ImapSession&, Command&);
// cmd_mailboxes.cpp
void cmd_list(ImapSession&, Command&);
void cmd_lsub(ImapSession&, Command&);
void cmd_namespace(ImapSession&, Command&);
void cmd_create(ImapSession&, Command&);
void cmd_delete(ImapSession&, Command&);
void cmd_rename(ImapSession&, Command&);
void cmd_subscribe(ImapSession&, Command&);
void cmd_unsubscribe(ImapSession&, Command&);
void cmd_status(ImapSession&, Command&);
// cmd_select.cpp
void cmd_select(ImapSession&, Command&);
void cmd_examine(ImapSession&, Command&);
void cmd_close(ImapSession&, Command&);
void cmd_unselect(ImapSession&, Command&);
void cmd_check(ImapSession&, Command&);
// cmd_fetch.cpp
void cmd_fetch(ImapSession&, Command&);
void cmd_uid_fetch(ImapSession&, Command&);
// cmd_store.cpp
void cmd_store(ImapSession&, Command&);
void cmd_uid_store(ImapSession&, Command&);
// cmd_expunge.cpp
void cmd_expunge(ImapSession&, Command&);
void cmd_uid_expunge(ImapSession&, Command&);
// cmd_copy_move.cpp
void cmd_copy(ImapSession&, Command&);
void cmd_uid_copy(ImapSession&, Command&);
void cmd_move(ImapSession&, Command&);
void cmd_uid_move(ImapSession&, Command&);
// cmd_append.cpp
void cmd_append(ImapSession&, Command&);
// cmd_search.cpp
void cmd_search(ImapSession&, Command&);
void cmd_uid_search(ImapSession&, Command&);
// cmd_idle.cpp
void cmd_idle(ImapSession&, Command&);

}  // namespace postern::imap
