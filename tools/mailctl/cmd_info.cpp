// `mailctl info`: what this instance offers. With --client-settings, the
// settings a person types into Thunderbird or Apple Mail.
#include <fstream>
#include <iostream>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/daemons.h"

namespace postern::mailctl {
namespace {

std::string ports_of(const Service& s) {
    std::string out;
    for (const auto& e : s.endpoints)
        out += (out.empty() ? "" : ", ") + e.to_string();
    return out;
}

}  // namespace

int cmd_info(const Context& ctx, const Words& words) {
    auto args = Args::parse(words, {"--user", "--password-file"}, {"--client-settings"});
    if (!args) return complain(kExUsage, args.error().message);
    auto cfg = config::load_file(ctx.config_path);
    if (!cfg) return complain(kExConfig, cfg.error().message);

    std::cout << "Postern instance: " << cfg->config_file.parent_path().string() << "\n"
              << "  Server name:   " << cfg->hostname << "\n"
              << "  Certificate:   " << cfg->tls.cert_file.string() << "\n";
    for (const auto& s : configured_services(*cfg)) {
        const bool built = find_daemon(*cfg, ctx.self_path, s.daemon).has_value();
        std::cout << "  " << s.label << " (" << s.tls << "): " << ports_of(s)
                  << (built ? "" : "   [not available yet: " + s.daemon + " is not built]") << "\n";
    }
    std::cout << "  Local delivery (LMTP): " << cfg->listen.lmtp.string() << "\n";
    if (!args->has("--client-settings")) return kExOk;

    std::string password = "(as set with mailctl user passwd)";
    if (auto file = args->value("--password-file")) {
        std::ifstream in(*file);
        if (!std::getline(in, password)) return complain(kExNoInput, "cannot read " + *file);
    }
    std::cout << "\nMail client settings (Thunderbird, Apple Mail):\n"
              << "  Server:        " << cfg->hostname << " (connects to 127.0.0.1)\n"
              << "  Username:      " << args->value("--user").value_or("(your address)") << "\n"
              << "  Password:      " << password << "\n"
              << "  Security:      the certificate is self-signed: accept it once when asked\n"
              << "  Authentication: normal password\n";
    return kExOk;
}

}  // namespace postern::mailctl
