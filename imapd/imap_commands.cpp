#include "imapd/imap_commands.h"

#include <array>

namespace postern::imap {

namespace {

// Pre-auth commands first: the set a client can reach before LOGIN is small
// on purpose (RFC 9051 §6.1, §6.2).
constexpr std::array kCommands = {
    CommandSpec{"CAPABILITY", cmd_capability, kAnyState},
    CommandSpec{"NOOP", cmd_noop, kAnyState},
    CommandSpec{"LOGOUT", cmd_logout, kAnyState},
    CommandSpec{"ID", cmd_id, kAnyState},
    CommandSpec{"STARTTLS", cmd_starttls, kNotAuthenticated},
    CommandSpec{"LOGIN", cmd_login, kNotAuthenticated},
    CommandSpec{"AUTHENTICATE", cmd_authenticate, kNotAuthenticated},
    CommandSpec{"ENABLE", cmd_enable, kAuthenticated},
    CommandSpec{"LIST", cmd_list, kAuthed},
    CommandSpec{"LSUB", cmd_lsub, kAuthed},
    CommandSpec{"NAMESPACE", cmd_namespace, kAuthed},
    CommandSpec{"CREATE", cmd_create, kAuthed},
    CommandSpec{"DELETE", cmd_delete, kAuthed},
    CommandSpec{"RENAME", cmd_rename, kAuthed},
    CommandSpec{"SUBSCRIBE", cmd_subscribe, kAuthed},
    CommandSpec{"UNSUBSCRIBE", cmd_unsubscribe, kAuthed},
    CommandSpec{"STATUS", cmd_status, kAuthed},
    CommandSpec{"SELECT", cmd_select, kAuthed},
    CommandSpec{"EXAMINE", cmd_examine, kAuthed},
    CommandSpec{"APPEND", cmd_append, kAuthed},
    CommandSpec{"IDLE", cmd_idle, kAuthed},
    CommandSpec{"CLOSE", cmd_close, kSelected},
    CommandSpec{"UNSELECT", cmd_unselect, kSelected},
    CommandSpec{"CHECK", cmd_check, kSelected},
    CommandSpec{"FETCH", cmd_fetch, kSelected},
    CommandSpec{"UID FETCH", cmd_uid_fetch, kSelected},
    CommandSpec{"STORE", cmd_store, kSelected},
    CommandSpec{"UID STORE", cmd_uid_store, kSelected},
    CommandSpec{"EXPUNGE", cmd_expunge, kSelected},
    CommandSpec{"UID EXPUNGE", cmd_uid_expunge, kSelected},
    CommandSpec{"COPY", cmd_copy, kSelected},
    CommandSpec{"UID COPY", cmd_uid_copy, kSelected},
    CommandSpec{"MOVE", cmd_move, kSelected},
    CommandSpec{"UID MOVE", cmd_uid_move, kSelected},
    CommandSpec{"SEARCH", cmd_search, kSelected},
    CommandSpec{"UID SEARCH", cmd_uid_search, kSelected},
};

}  // namespace

const CommandSpec* find_command(std::string_view name) {
    for (const CommandSpec& spec : kCommands)
        if (spec.name == name) return &spec;
    return nullptr;
}

}  // namespace postern::imap
