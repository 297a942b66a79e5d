// Supervisor for `mailctl serve`: starts each Postern daemon as its own
// process, restarts one that dies (exponential backoff, reset after a stable
// run), and stops them all on SIGTERM or Ctrl-C.
//
// In production each daemon has its own systemd unit instead; this is for the
// demo, the tests and hosts without systemd. It never blocks the loop: child
// exits arrive through libuv's process handles.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace postern::mailctl {

struct ChildSpec {
    std::string name;               // for logs: "mda", "smtpd", ...
    std::vector<std::string> argv;  // argv[0] is the executable path
};

struct SupervisorLimits {
    std::chrono::milliseconds first_backoff{500};
    std::chrono::milliseconds max_backoff{30'000};
    // A child that ran this long is considered healthy: its backoff resets.
    std::chrono::milliseconds stable_run{30'000};
    // After SIGTERM, children get this long to drain before SIGKILL.
    std::chrono::milliseconds stop_grace{10'000};
};

// Runs until a stop signal; returns the process exit code.
int supervise(const std::vector<ChildSpec>& children, const SupervisorLimits& limits);

}  // namespace postern::mailctl
