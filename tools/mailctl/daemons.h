// Which Postern daemons exist beside this mailctl and which services the
// configuration turns on: shared by `serve` (what to start) and `info` (what
// a mail client can use).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"

namespace postern::mailctl {

struct Service {
    std::string label;   // "IMAP", "IMAPS", ...
    std::string daemon;  // "imapd"
    std::string tls;     // "STARTTLS" or "SSL/TLS"
    std::vector<config::Endpoint> endpoints;
};

// The services that have listeners in `cfg`, in the order a client setup
// dialog shows them.
std::vector<Service> configured_services(const config::Config& cfg);

// The executable of `daemon`: in paths.bin_dir when set, else beside mailctl,
// else in a build tree (build/<dir>/<daemon>). nullopt when not built.
std::optional<std::filesystem::path> find_daemon(const config::Config& cfg,
                                                 const std::string& self_path,
                                                 const std::string& daemon);

}  // namespace postern::mailctl
