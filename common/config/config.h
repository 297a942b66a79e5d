// postern::config: the one configuration file every program reads.
//
// The file is JSON with // and /* */ comments. Every key is optional and has
// a default, a type and a range in one table (schema.h); the loader walks that
// table, so the table, the typed Config below and etc/postern.json.sample
// cannot disagree. Loading is strict: an unknown key, a wrong type or a bad
// value is an error whose message starts with the dotted key path, e.g.
//   smtp.max_recipients: must be between 1 and 10000, got 0
// All problems are reported at once, one per line. Nothing here throws: JSON
// syntax errors are caught and reported as "line L, column C".
//
// Relative paths are resolved against the directory that holds the file, so
// an instance directory made by `mailctl init` can be moved as a whole.
// Field names are the key names; every limit carries its unit in its name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base/result.h"
#include "common/log/log.h"

namespace postern::config {

// A "host:port" endpoint. host is stored without brackets: "127.0.0.1",
// "::1", "localhost", or (only where a key allows it) a DNS name.
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;

    // "host:port", or "[v6]:port" when host contains ':'.
    std::string to_string() const;
    bool operator==(const Endpoint&) const = default;
};

enum class OverQuota { Temporary, Permanent };

struct PathsConfig {
    std::filesystem::path data_dir;
    std::filesystem::path queue_dir;
    std::filesystem::path run_dir;
    std::filesystem::path bin_dir;  // empty: next to mailctl
};

struct TlsConfig {
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
};

struct AuthConfig {
    bool allow_plaintext_on_loopback = false;
    std::uint64_t cache_seconds = 0;
    std::uint64_t max_failures_per_ip = 0;
    std::uint64_t max_failures_per_user = 0;
    std::uint64_t failure_window_seconds = 0;
    std::uint64_t failure_delay_ms = 0;
};

// An empty list turns the service off.
struct ListenConfig {
    std::vector<Endpoint> smtp;
    std::vector<Endpoint> submission;
    std::vector<Endpoint> submissions;
    std::vector<Endpoint> imap;
    std::vector<Endpoint> imaps;
    std::vector<Endpoint> pop3;
    std::vector<Endpoint> pop3s;
    std::filesystem::path lmtp;  // unix socket
};

struct ConnectionsConfig {
    std::uint64_t max_total = 0;
    std::uint64_t max_per_ip = 0;
};

struct SmtpConfig {
    std::uint64_t max_line_bytes = 0;
    std::uint64_t max_message_bytes = 0;
    std::uint64_t max_recipients = 0;
    std::uint64_t max_bad_commands = 0;
    std::uint64_t idle_timeout_seconds = 0;
    std::uint64_t session_timeout_seconds = 0;
    std::uint64_t max_received_headers = 0;
    bool submission_hide_client_ip = false;
};

struct ImapConfig {
    std::uint64_t max_line_bytes = 0;
    std::uint64_t max_literal_bytes = 0;
    std::uint64_t max_nonsync_literal_bytes = 0;
    std::uint64_t max_bad_commands = 0;
    std::uint64_t idle_timeout_seconds = 0;
};

struct Pop3Config {
    std::uint64_t max_line_bytes = 0;
    std::uint64_t max_bad_commands = 0;
    std::uint64_t idle_timeout_seconds = 0;
};

struct DeliveryConfig {
    std::string recipient_delimiter;
    bool local_part_case_sensitive = false;
    OverQuota over_quota = OverQuota::Temporary;
    std::uint64_t max_mime_nesting_depth = 0;
};

struct QueueConfig {
    std::uint64_t lifetime_seconds = 0;
    std::uint64_t retry_min_seconds = 0;
    std::uint64_t retry_max_seconds = 0;
    std::uint64_t remote_port = 0;
    std::optional<Endpoint> nameserver;  // empty: /etc/resolv.conf
    std::optional<Endpoint> relayhost;   // empty: deliver to the MX
    std::string relayhost_user;
    std::filesystem::path relayhost_password_file;
};

// The typed view of a loaded file. A default-constructed Config is not a
// valid configuration: get one from load_file()/load_text(), which fill
// every field (load_text("{}", dir) gives the defaults).
struct Config {
    std::string hostname;  // never empty after loading
    log::Level log_level = log::Level::Info;
    std::string user;   // empty: do not drop privileges
    std::string group;  // empty: do not drop privileges
    PathsConfig paths;
    TlsConfig tls;
    AuthConfig auth;
    ListenConfig listen;
    ConnectionsConfig connections;
    SmtpConfig smtp;
    ImapConfig imap;
    Pop3Config pop3;
    DeliveryConfig delivery;
    QueueConfig queue;
    std::filesystem::path config_file;  // absolute; empty after load_text()
};

// Where the default search ends when neither -c nor POSTERN_CONFIG is given.
inline constexpr const char* kDefaultConfigPath = "/etc/postern/postern.json";
inline constexpr const char* kConfigEnvVar = "POSTERN_CONFIG";

// Reads, parses and validates a file. Errors are prefixed with the file name.
Result<Config> load_file(const std::filesystem::path& file);

// Parses and validates text; relative paths resolve against base_dir.
Result<Config> load_text(std::string_view text, const std::filesystem::path& base_dir);

// The config file named on a command line, and the arguments left over.
struct ConfigArgs {
    std::filesystem::path path;
    std::vector<std::string> rest;  // argv[1..] without the config option
};

// Finds the config file: "-c FILE", "-cFILE", "--config FILE" or
// "--config=FILE" anywhere before "--"; else env_value (POSTERN_CONFIG) if not
// empty; else kDefaultConfigPath. `args` excludes the program name.
Result<ConfigArgs> find_config_path(const std::vector<std::string>& args, const char* env_value);

// find_config_path() on main()'s arguments and the real environment.
Result<ConfigArgs> resolve_config_path(int argc, const char* const* argv);

// Renders a complete, documented config file: every key with its doc comment,
// the value from `overrides` where given, else the default. `overrides` has
// the file's own shape, e.g. {"hostname": "mx.example", "listen": {"smtp":
// ["127.0.0.1:2525"]}}. Fails when an override names an unknown key or the
// result does not load; the file it returns always loads.
Result<std::string> render_config(const nlohmann::json& overrides);

// render_config({}): the text of etc/postern.json.sample.
std::string render_sample();

}  // namespace postern::config
