// Test harness for the daemon skeleton: an echo service, a forked child that
// runs daemon::run() with its stderr in a file, and blocking clients with
// receive timeouts. Every wait is bounded: the child arms alarm() and the
// parent kills it when it does not exit in time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/daemon/daemon.h"

namespace postern::daemon::testing {

using namespace std::chrono_literals;

// The child dies of SIGALRM after this long, whatever happens.
inline constexpr unsigned kChildAlarmSeconds = 30;
// How long the parent waits for a child to answer or exit.
inline constexpr std::chrono::milliseconds kWaitLimit = 10s;

struct EchoOptions {
    bool tls = false;   // needs_tls, and an implicit-TLS "echos" listener on listen.submissions
    bool lmtp = false;  // a "lmtp" listener on the listen.lmtp unix socket
    std::chrono::seconds drain_grace{10};
};

// Sessions greet "220 hello", answer "250 <line>" to every line, and
// "221 bye" (then close) to QUIT. SIGTERM after the grace: "421 shutting down".
ServiceSpec echo_spec(const EchoOptions& options);

// A loopback port that was free a moment ago.
std::uint16_t free_port();

// Writes a complete config (render_config(overrides)) to dir/postern.json.
std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const nlohmann::json& overrides);

struct Child {
    pid_t pid = -1;
    std::filesystem::path stderr_file;
};

// Forks; the child runs run({"echod", "-c", config}, spec) and _exits with its result.
Child spawn(const ServiceSpec& spec, const std::filesystem::path& config,
            const std::filesystem::path& stderr_file);
// The exit code, 128+signal when killed, or -1 (child SIGKILLed) after `limit`.
int wait_exit(const Child& child, std::chrono::milliseconds limit = kWaitLimit);
std::string read_file(const std::filesystem::path& file);

// A blocking client socket with 5 s receive/send timeouts; -1 when refused.
int connect_tcp(std::uint16_t port);
int connect_unix(const std::string& path);
// One line without its CRLF; "<eof>" or "<timeout>" when there is none.
std::string read_line(int fd);
void send_line(int fd, const std::string& line);
// Connects until the greeting arrives (the child is serving) or kWaitLimit.
int connect_when_ready(std::uint16_t port);

// The subject CN of the certificate served on an implicit-TLS port, or
// "<error: ...>".
std::string tls_peer_cn(std::uint16_t port);

}  // namespace postern::daemon::testing
