// Privilege drop for daemons started as root (STYLE.md §2).
//
// Two steps, so the skeleton can give the LMTP socket to the target user
// between binding (as root) and dropping:
//   auto target = plan_privileges(cfg.user, cfg.group);   // look-ups only
//   ... bind listeners, chown unix sockets to target->uid/gid ...
//   drop_privileges(*target);                              // irrevocable
//
// drop_privileges() goes setgroups -> setgid -> setuid, in that order
// (OpenSMTPD dispatcher.c: setgroups, setresgid, setresuid), then proves the
// drop: real and effective ids are the targets, the only group is the
// target group, and setuid(0) fails. Any failure is fatal for the caller
// (exit 71): a daemon must never serve half-dropped.
//
// Rules (config keys `user` and `group`):
// - running as root, user set: drop to user; group defaults to the user's
//   primary group;
// - running as root, user empty: no drop (the caller warns);
// - not root, user set to the current user: nothing to do;
// - not root, user set to another user: refused, exit 77 (EX_NOPERM);
// - unknown user or group: exit 78 (EX_CONFIG), naming the key;
// - user "root" (uid 0) is refused: leave user empty to keep root.
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

#include "common/base/result.h"

namespace postern::daemon {

struct PrivilegeTarget {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;
    std::string group;
};

// Why the daemon cannot continue, and the sysexits code to exit with.
struct PrivilegeError {
    int exit_code = 0;
    std::string message;
};

// Decides whether and to whom to drop. nullopt: keep the current ids.
// Only look-ups; changes nothing.
Result<std::optional<PrivilegeTarget>, PrivilegeError> plan_privileges(const std::string& user,
                                                                       const std::string& group);

// Irrevocably becomes `target`, then verifies it (see above).
Result<void, PrivilegeError> drop_privileges(const PrivilegeTarget& target);

// The name of the effective user, or its number when it has no name.
std::string effective_user_name();

}  // namespace postern::daemon
