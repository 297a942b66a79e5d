// The daemon skeleton: everything a Postern daemon does that is not its
// protocol (STYLE.md §2). A daemon's main() fills in a ServiceSpec and calls
// run(); the skeleton then:
//   1. finds and loads the config (-c FILE / POSTERN_CONFIG), exit 78 naming
//      the key on error; sets the log level;
//   2. loads the TLS certificate and key when the service needs them;
//   3. binds every listener the service asks for (privileged ports work when
//      started as root);
//   4. drops privileges to config.user/config.group when running as root,
//      and proves the drop cannot be undone;
//   5. only then calls Service::start() and serves: session code never runs
//      with privileges;
//   6. SIGHUP reloads the TLS certificate (sessions keep theirs) and calls
//      Service::reload(); SIGTERM/SIGINT stops accepting, gives sessions a
//      grace period, closes the rest with the listener's shutdown line, and
//      exits 0.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/config/config.h"
#include "common/loop/loop.h"
#include "common/net/conn_limits.h"
#include "common/net/listener.h"
#include "common/net/peer_tracker.h"
#include "common/tls/tls_context.h"

namespace postern::daemon {

// One listener the service wants, decided from the config.
struct ListenerPlan {
    std::string name;                    // "smtp", "submissions", "lmtp": for logs and factories
    std::vector<std::string> addresses;  // "127.0.0.1:25", "[::1]:25", or "unix:/path"
    bool implicit_tls = false;           // 465/993/995
    net::ConnectionLimits limits;
    std::string
        refusal_line;  // over a connection cap, with CRLF: "421 4.7.0 Too many connections\r\n"
    std::string shutdown_line;  // at SIGTERM after the grace period, without CRLF: "421 4.3.2
                                // Shutting down"
};

// What the skeleton hands the service once privileges are dropped.
struct Runtime {
    loop::Loop& loop;
    const config::Config& config;
    const tls::TlsContext* tls;            // server context for STARTTLS; null unless needs_tls
    net::PeerTracker& tracker;             // shared by all listeners of this daemon
    const std::vector<std::string>& args;  // command-line words besides -c FILE
};

class Service {
  public:
    virtual ~Service() = default;
    // After the privilege drop, before the first accept: open stores, etc.
    // A failure is logged and the daemon exits 75 (EX_TEMPFAIL).
    virtual Status start(Runtime& runtime) = 0;
    // The factory for the sessions of listener `plan.name`.
    virtual net::SessionFactory session_factory(Runtime& runtime, const ListenerPlan& plan) = 0;
    // SIGHUP, after the TLS context has been reloaded.
    virtual void reload(Runtime&) {}
};

struct ServiceSpec {
    std::string name;        // the program name in logs: "smtpd", "imapd", "mda"
    bool needs_tls = false;  // load tls.cert_file / tls.key_file at start
    std::function<std::vector<ListenerPlan>(const config::Config&)> listeners;
    // False for a daemon that serves no connections (queued): no listener
    // is then not a configuration error.
    bool needs_listener = true;
    std::function<std::unique_ptr<Service>()> make_service;
    // How long sessions may finish their work after SIGTERM.
    std::chrono::seconds drain_grace{10};
};

// Runs the daemon; returns the process exit code (sysexits.h).
int run(int argc, char** argv, const ServiceSpec& spec);

// Connection limits from the config for a protocol section's keys.
net::ConnectionLimits limits_from(const config::Config& cfg, std::uint64_t max_line_bytes,
                                  std::uint64_t idle_timeout_seconds,
                                  std::uint64_t max_bad_commands);

// "host:port" strings for net::ListenerSpec from config endpoints.
std::vector<std::string> addresses_of(const std::vector<config::Endpoint>& endpoints);

}  // namespace postern::daemon
