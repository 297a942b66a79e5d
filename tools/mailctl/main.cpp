// mailctl: the admin's command line. One table of subcommands, the same
// pattern as the protocol command tables.
#include <unistd.h>

#include <array>
#include <iostream>
#include <string_view>

#include "common/base/sysexits.h"
#include "common/log/log.h"
#include "tools/mailctl/commands.h"

namespace postern::mailctl {
namespace {

struct Subcommand {
    std::string_view name;
    int (*run)(const Context&, const Words&);
    bool needs_config;
    std::string_view usage;
};

constexpr std::array kSubcommands = {
    Subcommand{"init", cmd_init, false, "init DIR [--domain D] [--hostname H] [--port-base N]"},
    Subcommand{"serve", cmd_serve, true, "serve"},
    Subcommand{"info", cmd_info, true, "info [--client-settings --user U --password-file F]"},
    Subcommand{"domain", cmd_domain, true, "domain add|del DOMAIN | domain list [--json]"},
    Subcommand{
        "user", cmd_user, true,
        "user add|passwd ADDRESS [--password-stdin] | user del ADDRESS | user list [--json] | "
        "user show ADDRESS [--json]"},
    Subcommand{"alias", cmd_alias, true,
               "alias add ALIAS TARGET... | alias del ALIAS | alias list [--json]"},
    Subcommand{"quota", cmd_quota, true, "quota set ADDRESS [--bytes N] [--messages N]"},
    Subcommand{"reindex", cmd_reindex, true, "reindex ADDRESS"},
    Subcommand{"queue", cmd_queue, true,
               "queue list [--json] | queue show ID [--json] | queue retry ID|--all | "
               "queue delete ID...|--all"},
};

int usage() {
    std::cerr << "usage: mailctl [-c FILE] COMMAND ...\n";
    for (const auto& s : kSubcommands)
        std::cerr << "  mailctl " << s.usage << "\n";
    return kExUsage;
}

}  // namespace

int complain(int code, const std::string& what) {
    std::cerr << "mailctl: " << what << "\n";
    return code;
}

}  // namespace postern::mailctl

int main(int argc, char** argv) {
    using namespace postern::mailctl;
    postern::log::init("mailctl", postern::log::Level::Info);
    Context ctx;
    ctx.self_path = argv[0];
    if (const char* env = std::getenv("POSTERN_CONFIG")) ctx.config_path = env;
    int i = 1;
    if (i + 1 < argc && std::string_view(argv[i]) == "-c") {
        ctx.config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc) return usage();
    const std::string_view name = argv[i];
    const Words words(argv + i + 1, argv + argc);
    for (const auto& sub : kSubcommands) {
        if (sub.name != name) continue;
        if (sub.needs_config && ctx.config_path.empty())
            return complain(postern::kExUsage,
                            "no configuration: give -c FILE or set POSTERN_CONFIG");
        return sub.run(ctx, words);
    }
    std::cerr << "mailctl: unknown command " << name << "\n";
    return usage();
}
