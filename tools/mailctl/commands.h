// The mailctl subcommands. Each takes the words after its name and returns a
// process exit code (sysexits.h). A failed admin command writes nothing and
// says why on stderr.
#pragma once

#include <string>
#include <vector>

namespace postern::mailctl {

struct Context {
    std::string config_path;  // from -c or POSTERN_CONFIG; empty for init
    std::string self_path;    // this executable, to find the daemons beside it
};

using Words = std::vector<std::string>;

int cmd_init(const Context& ctx, const Words& words);
int cmd_serve(const Context& ctx, const Words& words);
int cmd_info(const Context& ctx, const Words& words);
int cmd_domain(const Context& ctx, const Words& words);
int cmd_user(const Context& ctx, const Words& words);
int cmd_alias(const Context& ctx, const Words& words);
int cmd_quota(const Context& ctx, const Words& words);
int cmd_reindex(const Context& ctx, const Words& words);
int cmd_queue(const Context& ctx, const Words& words);

// Prints "mailctl: <what>" to stderr and returns `code`.
int complain(int code, const std::string& what);

}  // namespace postern::mailctl
