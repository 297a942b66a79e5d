// What the `mailctl queue` verbs share: opening the spool named by the
// config and checking the ids an admin typed (cmd_queue.cpp, cmd_queue_change.cpp).
#pragma once

#include <optional>
#include <string>

#include "common/base/result.h"
#include "storage/queue_spool.h"
#include "tools/mailctl/commands.h"

namespace postern::mailctl {

// The spool named by the config. An absent queue directory is an empty
// queue: `spool` stays empty and nothing is created. Run as root, we act as
// the directory's owner so that files we write stay readable to the runner.
// Returns an exit code (kExOk, or the one already reported).
int open_queue(const Context& ctx, std::optional<store::QueueSpool>& spool);

bool message_exists(const store::QueueSpool& spool, const std::string& id);

// Exit code and message for an id given on the command line that names no
// message; kExOk when it names one.
int check_id(const std::optional<store::QueueSpool>& spool, const std::string& id);

// Exit code for a message that could not be loaded: gone, or unreadable.
int load_failed(const store::QueueSpool& spool, const std::string& id, const Error& e);

// `mailctl queue retry ID|--all` and `mailctl queue delete ID...|--all`.
int queue_retry(const Context& ctx, const Words& words);
int queue_delete(const Context& ctx, const Words& words);

}  // namespace postern::mailctl
