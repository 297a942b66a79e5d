#include "tools/mailctl/daemons.h"

#include <unistd.h>

namespace postern::mailctl {
namespace {

// submissiond is built from smtpd's sources, in smtpd's build directory,
// and the queue runner in smtpd/queue.
std::string source_dir_of(const std::string& daemon) {
    if (daemon == "submissiond") return "smtpd";
    if (daemon == "queued") return "smtpd/queue";
    return daemon;
}

std::filesystem::path self_dir(const std::string& self_path) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) exe = std::filesystem::absolute(self_path, ec);
    return exe.parent_path();
}

bool executable(const std::filesystem::path& p) {
    return std::filesystem::is_regular_file(p) && access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::vector<Service> configured_services(const config::Config& cfg) {
    const auto& l = cfg.listen;
    std::vector<Service> all = {
        {"IMAP", "imapd", "SSL/TLS", l.imaps},
        {"IMAP", "imapd", "STARTTLS", l.imap},
        {"SMTP submission", "submissiond", "SSL/TLS", l.submissions},
        {"SMTP submission", "submissiond", "STARTTLS", l.submission},
        {"POP3", "pop3d", "SSL/TLS", l.pop3s},
        {"POP3", "pop3d", "STARTTLS", l.pop3},
        {"SMTP (MX, inbound)", "smtpd", "STARTTLS", l.smtp},
    };
    std::vector<Service> on;
    for (auto& s : all)
        if (!s.endpoints.empty()) on.push_back(std::move(s));
    return on;
}

std::optional<std::filesystem::path> find_daemon(const config::Config& cfg,
                                                 const std::string& self_path,
                                                 const std::string& daemon) {
    if (!cfg.paths.bin_dir.empty()) {
        auto p = cfg.paths.bin_dir / daemon;
        return executable(p) ? std::optional(p) : std::nullopt;
    }
    const auto here = self_dir(self_path);
    for (const auto& p : {here / daemon, here / ".." / ".." / source_dir_of(daemon) / daemon}) {
        if (executable(p)) return std::filesystem::weakly_canonical(p);
    }
    return std::nullopt;
}

}  // namespace postern::mailctl
