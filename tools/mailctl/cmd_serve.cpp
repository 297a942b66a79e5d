// `mailctl serve`: start every built daemon that the configuration turns on.
#include <set>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/daemons.h"
#include "tools/mailctl/supervisor.h"

namespace postern::mailctl {

int cmd_serve(const Context& ctx, const Words& words) {
    if (!words.empty()) return complain(kExUsage, "serve takes no arguments");
    auto cfg = config::load_file(ctx.config_path);
    if (!cfg) return complain(kExConfig, cfg.error().message);
    log::set_level(cfg->log_level);

    std::vector<ChildSpec> children;
    const auto add = [&](const std::string& daemon, std::vector<std::string> extra) {
        auto exe = find_daemon(*cfg, ctx.self_path, daemon);
        if (!exe) {
            log::warn("daemon-not-built").kv("name", daemon);
            return;
        }
        std::vector<std::string> argv = {exe->string(), "-c", cfg->config_file.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        children.push_back({daemon, std::move(argv)});
    };
    // The local delivery agent always runs: the SMTP daemons hand it mail.
    add("mda", {"--lmtp"});
    std::set<std::string> started;
    for (const auto& service : configured_services(*cfg)) {
        if (started.insert(service.daemon).second) add(service.daemon, {});
    }
    // Submitted mail for other domains, and recipients mda refused while it
    // took others, wait in the queue for its runner.
    if (started.contains("submissiond") || started.contains("smtpd")) add("queued", {});
    if (children.empty()) return complain(kExUnavailable, "no daemon is built; run ninja first");
    return supervise(children, SupervisorLimits{});
}

}  // namespace postern::mailctl
