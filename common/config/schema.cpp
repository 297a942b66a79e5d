// The schema table. To add a key: add the member to the struct in config.h,
// add one row here (in the section's block), regenerate
// etc/postern.json.sample with `ninja -C BUILD update-config-sample`.
#include "common/config/schema.h"

#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>

#include "common/base/assert.h"

namespace postern::config {
namespace {

template <typename A>
const A& as(const Value& v) {
    const A* p = std::get_if<A>(&v);
    POSTERN_ASSERT(p != nullptr);  // a row's type does not match its member
    return *p;
}

template <typename T>
void assign(T& out, const Value& v) {
    if constexpr (std::is_same_v<T, bool>) {
        out = as<bool>(v);
    } else if constexpr (std::is_enum_v<T>) {
        out = static_cast<T>(as<EnumIndex>(v).index);
    } else if constexpr (std::is_integral_v<T>) {
        const std::uint64_t n = as<std::uint64_t>(v);
        POSTERN_ASSERT(n <= std::numeric_limits<T>::max());  // the row's max is too large
        out = static_cast<T>(n);
    } else {
        out = as<T>(v);
    }
}

template <auto Member>
void set_top(Config& c, const Value& v) {
    assign(c.*Member, v);
}

template <auto Section, auto Member>
void set_nested(Config& c, const Value& v) {
    assign((c.*Section).*Member, v);
}

// The key is spelled from the member names, so key and field cannot differ.
#define TOP(member)                          \
    Binding {                                \
#member, &set_top < &Config::member> \
    }
#define NESTED(section, member)                                                                   \
    Binding {                                                                                     \
#section "." #member, &set_nested < &Config::section, &decltype(Config::section)::member> \
    }

constexpr std::array<std::string_view, 4> kLogLevels = {"debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> kOverQuota = {"temporary", "permanent"};

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::uint64_t kDay = 86400;

// RFC 1123 section 2.1 host names. "" means gethostname().
std::optional<std::string> check_hostname(std::string_view s) {
    if (s.empty() || is_dns_name(s)) return std::nullopt;
    return "must be a domain name (letters, digits and '-' in dot-separated labels of 1 to 63)";
}

// Each character is one delimiter (as Postfix's recipient_delimiter). '@',
// quotes and backslashes would change how an address parses.
std::optional<std::string> check_delimiter(std::string_view s) {
    if (s.size() > 8) return "must be at most 8 characters";
    for (char c : s) {
        const bool punct = c > 0x20 && c < 0x7f && !(c >= 'a' && c <= 'z') &&
                           !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9');
        if (!punct || c == '@' || c == '"' || c == '\\')
            return "must be ASCII punctuation other than '@', '\"' and '\\'";
    }
    return std::nullopt;
}

// POSIX user and group names (useradd's default NAME_REGEX, loosely).
std::optional<std::string> check_account(std::string_view s) {
    if (s.size() > 32) return "must be at most 32 characters";
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return "must be a user or group name (letters, digits, '-', '_', '.')";
    }
    if (!s.empty() && s.front() == '-') return "must not start with '-'";
    return std::nullopt;
}

constexpr std::array kSections = {
    Section{"paths", "Directories. Relative paths are resolved against this file's directory."},
    Section{"tls", "TLS key material, PEM. Loaded before privileges are dropped."},
    Section{"auth", "Authentication caching and failed-login throttling (all daemons)."},
    Section{"listen",
            "Listening endpoints: lists of \"ip:port\", \"[ipv6]:port\" or \"localhost:port\". "
            "An empty list turns that service off. IPv6 sockets are bound IPV6_V6ONLY, so "
            "\"0.0.0.0\" and \"[::]\" can share a port."},
    Section{"connections", "Connection caps per daemon process."},
    Section{"smtp", "SMTP (smtpd and submissiond) and LMTP limits."},
    Section{"imap", "IMAP limits."},
    Section{"pop3", "POP3 limits."},
    Section{"delivery", "Local delivery (mda)."},
    Section{"queue", "Outbound queue (submissiond's delivery to remote servers)."},
};

constexpr std::array kFields = {
    // Top level.
    Field{.bind = TOP(hostname),
          .type = FieldType::String,
          .default_json = R"("")",
          .check = check_hostname,
          .doc = "Fully qualified name of this host, used in greetings and Received fields. "
                 "Empty: the machine's hostname (gethostname(2))."},
    Field{.bind = TOP(log_level),
          .type = FieldType::Enum,
          .default_json = R"("info")",
          .choices = kLogLevels,
          .doc = "Lowest severity written to the log."},
    Field{.bind = TOP(user),
          .type = FieldType::String,
          .default_json = R"("")",
          .check = check_account,
          .doc = "User a daemon started as root switches to after binding its ports and loading "
                 "keys. Empty: keep the user it was started as."},
    Field{.bind = TOP(group),
          .type = FieldType::String,
          .default_json = R"("")",
          .check = check_account,
          .doc = "Group to switch to, as for user. Empty: the user's primary group if user is "
                 "set, else keep the group."},

    Field{.bind = NESTED(paths, data_dir),
          .type = FieldType::Path,
          .default_json = R"("data")",
          .doc = "Mail store: directory.db and each user's Maildir and index."},
    Field{.bind = NESTED(paths, queue_dir),
          .type = FieldType::Path,
          .default_json = R"("queue")",
          .doc = "Outbound mail spool."},
    Field{.bind = NESTED(paths, run_dir),
          .type = FieldType::Path,
          .default_json = R"("run")",
          .doc = "Unix sockets and pid files."},
    Field{.bind = NESTED(paths, bin_dir),
          .type = FieldType::Path,
          .default_json = R"("")",
          .doc = "Where mailctl serve finds the daemons. Empty: the directory that holds mailctl."},

    Field{.bind = NESTED(tls, cert_file),
          .type = FieldType::Path,
          .default_json = R"("tls/cert.pem")",
          .doc = "Certificate chain, leaf first. mailctl init writes a self-signed one here."},
    Field{.bind = NESTED(tls, key_file),
          .type = FieldType::Path,
          .default_json = R"("tls/key.pem")",
          .doc = "Private key of cert_file."},

    Field{.bind = NESTED(auth, allow_plaintext_on_loopback),
          .type = FieldType::Bool,
          .default_json = "false",
          .doc = "Allow password authentication without TLS from 127.0.0.0/8 and ::1 (for local "
                 "webmail and tests). Elsewhere it is refused (SMTP 538 5.7.11, RFC 4954 section "
                 "4)."},
    Field{.bind = NESTED(auth, cache_seconds),
          .type = FieldType::Uint,
          .default_json = "300",
          .min = 0,
          .max = kDay,
          .doc = "Seconds a successful password check is remembered, so that clients that "
                 "reconnect often do not pay for Argon2id each time. 0: no cache."},
    Field{.bind = NESTED(auth, max_failures_per_ip),
          .type = FieldType::Uint,
          .default_json = "10",
          .min = 1,
          .max = 1000000,
          .doc = "Failed logins from one client IP within failure_window_seconds before further "
                 "attempts from it are refused."},
    Field{.bind = NESTED(auth, max_failures_per_user),
          .type = FieldType::Uint,
          .default_json = "5",
          .min = 1,
          .max = 1000000,
          .doc = "Failed logins for one user within failure_window_seconds before further "
                 "attempts for that user are refused."},
    Field{.bind = NESTED(auth, failure_window_seconds),
          .type = FieldType::Uint,
          .default_json = "900",
          .min = 1,
          .max = 7 * kDay,
          .doc = "Seconds over which failed logins are counted (15 minutes)."},
    Field{.bind = NESTED(auth, failure_delay_ms),
          .type = FieldType::Uint,
          .default_json = "1000",
          .min = 0,
          .max = 60000,
          .doc = "Milliseconds added to the reply after each failed login, per failure so far."},

    Field{.bind = NESTED(listen, smtp),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:25", "[::]:25"])",
          .doc = "SMTP from other mail servers (MX), RFC 5321; port 25."},
    Field{.bind = NESTED(listen, submission),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:587", "[::]:587"])",
          .doc = "Message submission with STARTTLS, RFC 6409; port 587."},
    Field{.bind = NESTED(listen, submissions),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:465", "[::]:465"])",
          .doc = "Message submission over implicit TLS, RFC 8314 section 3.3; port 465."},
    Field{.bind = NESTED(listen, imap),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:143", "[::]:143"])",
          .doc = "IMAP with STARTTLS, RFC 3501; port 143."},
    Field{.bind = NESTED(listen, imaps),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:993", "[::]:993"])",
          .doc = "IMAP over implicit TLS, RFC 8314; port 993."},
    Field{.bind = NESTED(listen, pop3),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:110", "[::]:110"])",
          .doc = "POP3 with STLS, RFC 1939 and RFC 2595; port 110."},
    Field{.bind = NESTED(listen, pop3s),
          .type = FieldType::AddressList,
          .default_json = R"(["0.0.0.0:995", "[::]:995"])",
          .doc = "POP3 over implicit TLS, RFC 8314; port 995."},
    Field{.bind = NESTED(listen, lmtp),
          .type = FieldType::Path,
          .default_json = R"("run/lmtp.sock")",
          .doc = "Unix socket on which mda --lmtp accepts mail from smtpd and submissiond. At most "
                 "107 bytes once resolved (sun_path)."},

    Field{.bind = NESTED(connections, max_total),
          .type = FieldType::Uint,
          .default_json = "1000",
          .min = 1,
          .max = 1000000,
          .doc = "Open client connections per daemon; new ones beyond it get a temporary-failure "
                 "greeting and are closed."},
    Field{.bind = NESTED(connections, max_per_ip),
          .type = FieldType::Uint,
          .default_json = "20",
          .min = 1,
          .max = 1000000,
          .doc = "Open client connections from one IP address per daemon (IPv6: per address)."},

    Field{.bind = NESTED(smtp, max_line_bytes),
          .type = FieldType::Uint,
          .default_json = "4096",
          .min = 512,
          .max = kMiB,
          .doc = "Longest command line in bytes, CRLF included. RFC 5321 section 4.5.3.1.4 sets "
                 "the minimum at 512; extensions (SIZE, AUTH, DSN) need more. Longer: "
                 "500 5.5.2 and the line is discarded; the session goes on."},
    Field{.bind = NESTED(smtp, max_message_bytes),
          .type = FieldType::Uint,
          .default_json = "52428800",
          .min = 1024,
          .max = 16 * kGiB,
          .doc = "Largest message in bytes (50 MiB), advertised in SIZE (RFC 1870); larger: "
                 "552 5.3.4."},
    Field{.bind = NESTED(smtp, max_recipients),
          .type = FieldType::Uint,
          .default_json = "100",
          .min = 1,
          .max = 10000,
          .doc = "Recipients per message. RFC 5321 section 4.5.3.1.8: servers must accept at "
                 "least 100. Beyond it: 452 4.5.3."},
    Field{.bind = NESTED(smtp, max_bad_commands),
          .type = FieldType::Uint,
          .default_json = "20",
          .min = 1,
          .max = 1000,
          .doc = "Bad or unknown commands in one session before 421 4.7.0 and close (Dovecot's "
                 "CLIENT_MAX_BAD_COMMANDS)."},
    Field{.bind = NESTED(smtp, idle_timeout_seconds),
          .type = FieldType::Uint,
          .default_json = "300",
          .min = 1,
          .max = kDay,
          .doc = "Seconds to wait for the next command or data block. RFC 5321 section 4.5.3.2.7 "
                 "asks for at least 5 minutes; lower only in tests."},
    Field{.bind = NESTED(smtp, session_timeout_seconds),
          .type = FieldType::Uint,
          .default_json = "3600",
          .min = 1,
          .max = kDay,
          .doc = "Seconds one session may last in all, however active (1 hour)."},
    Field{.bind = NESTED(smtp, max_received_headers),
          .type = FieldType::Uint,
          .default_json = "100",
          .min = 1,
          .max = 1000,
          .doc = "Received fields after which a message is taken to be looping and is rejected "
                 "(RFC 5321 section 6.3; Postfix's hopcount_limit is 50)."},
    Field{.bind = NESTED(smtp, submission_hide_client_ip),
          .type = FieldType::Bool,
          .default_json = "false",
          .doc = "Leave the client's IP address out of the Received field that submissiond adds."},

    Field{.bind = NESTED(imap, max_line_bytes),
          .type = FieldType::Uint,
          .default_json = "65536",
          .min = 1024,
          .max = 64 * kMiB,
          .doc = "Longest command line in bytes, literals excluded. RFC 7162 section 4 asks "
                 "servers to accept at least 8192."},
    Field{.bind = NESTED(imap, max_literal_bytes),
          .type = FieldType::Uint,
          .default_json = "52428800",
          .min = 1024,
          .max = 16 * kGiB,
          .doc = "Largest literal in bytes (50 MiB), which caps APPEND; larger: NO [TOOBIG] "
                 "(RFC 7889)."},
    Field{.bind = NESTED(imap, max_nonsync_literal_bytes),
          .type = FieldType::Uint,
          .default_json = "4096",
          .min = 0,
          .max = 16 * kGiB,
          .doc = "Largest non-synchronizing literal {n+} in bytes. 4096 is LITERAL- (RFC 7888 "
                 "section 4); must not exceed max_literal_bytes."},
    Field{.bind = NESTED(imap, max_bad_commands),
          .type = FieldType::Uint,
          .default_json = "20",
          .min = 1,
          .max = 1000,
          .doc = "Bad commands in one session before * BYE and close."},
    Field{.bind = NESTED(imap, idle_timeout_seconds),
          .type = FieldType::Uint,
          .default_json = "1800",
          .min = 1,
          .max = kDay,
          .doc = "Seconds of client silence before * BYE. RFC 3501 section 5.4 asks for at least "
                 "30 minutes; lower only in tests."},

    Field{.bind = NESTED(pop3, max_line_bytes),
          .type = FieldType::Uint,
          .default_json = "512",
          .min = 255,
          .max = kMiB,
          .doc = "Longest command line in bytes. RFC 2449 section 4 allows 255 octets; the rest is "
                 "margin."},
    Field{.bind = NESTED(pop3, max_bad_commands),
          .type = FieldType::Uint,
          .default_json = "20",
          .min = 1,
          .max = 1000,
          .doc = "Bad commands in one session before -ERR and close."},
    Field{.bind = NESTED(pop3, idle_timeout_seconds),
          .type = FieldType::Uint,
          .default_json = "600",
          .min = 1,
          .max = kDay,
          .doc = "Seconds of client silence before the session is closed. RFC 1939 section 3 asks "
                 "for at least 10 minutes; lower only in tests."},

    Field{.bind = NESTED(delivery, recipient_delimiter),
          .type = FieldType::String,
          .default_json = R"("+")",
          .check = check_delimiter,
          .doc = "Characters that start an address extension: user+tag@domain is delivered to "
                 "user@domain. Each character is a delimiter. Empty: no extensions."},
    Field{.bind = NESTED(delivery, local_part_case_sensitive),
          .type = FieldType::Bool,
          .default_json = "false",
          .doc = "Treat User@ and user@ as different mailboxes. RFC 5321 section 2.4 allows it; "
                 "almost nobody wants it."},
    Field{.bind = NESTED(delivery, over_quota),
          .type = FieldType::Enum,
          .default_json = R"("temporary")",
          .choices = kOverQuota,
          .doc = "Reply when a mailbox is over quota: temporary (452 4.2.2, the sender retries) or "
                 "permanent (552 5.2.2, bounce now)."},
    Field{.bind = NESTED(delivery, max_mime_nesting_depth),
          .type = FieldType::Uint,
          .default_json = "32",
          .min = 1,
          .max = 1000,
          .doc = "Deepest MIME multipart nesting that is parsed; deeper parts are kept as opaque "
                 "bodies."},

    Field{.bind = NESTED(queue, lifetime_seconds),
          .type = FieldType::Uint,
          .default_json = "432000",
          .min = 1,
          .max = 30 * kDay,
          .doc = "Seconds a message may wait in the queue before it bounces (5 days, RFC 5321 "
                 "section 4.5.4.1 suggests 4-5 days)."},
    Field{.bind = NESTED(queue, retry_min_seconds),
          .type = FieldType::Uint,
          .default_json = "300",
          .min = 1,
          .max = kDay,
          .doc = "First retry delay in seconds; it doubles after each failure. RFC 5321 section "
                 "4.5.4.1 asks for at least 30 minutes between attempts to one host; 5 minutes "
                 "is what Postfix uses for the first retry."},
    Field{.bind = NESTED(queue, retry_max_seconds),
          .type = FieldType::Uint,
          .default_json = "14400",
          .min = 1,
          .max = 7 * kDay,
          .doc = "Longest retry delay in seconds (4 hours); at least retry_min_seconds."},
    Field{.bind = NESTED(queue, remote_port),
          .type = FieldType::Uint,
          .default_json = "25",
          .min = 1,
          .max = 65535,
          .doc = "Port of remote MX hosts. Not 25 only in tests."},
    Field{.bind = NESTED(queue, nameserver),
          .type = FieldType::Address,
          .default_json = R"("")",
          .doc = "DNS server for MX lookups as \"ip:port\". Empty: the servers in "
                 "/etc/resolv.conf."},
    Field{.bind = NESTED(queue, relayhost),
          .type = FieldType::HostPort,
          .default_json = R"("")",
          .doc = "Send all outbound mail through this server, \"host:port\", instead of to each "
                 "domain's MX. Empty: deliver directly."},
    Field{.bind = NESTED(queue, relayhost_user),
          .type = FieldType::String,
          .default_json = R"("")",
          .doc = "User name for AUTH at relayhost. Empty: no authentication."},
    Field{.bind = NESTED(queue, relayhost_password_file),
          .type = FieldType::Path,
          .default_json = R"("")",
          .doc = "File whose first line is the relayhost password; required with relayhost_user."},
};

#undef TOP
#undef NESTED

bool is_section(std::string_view name) {
    return find_section(name) != nullptr;
}

// Levenshtein distance, for "did you mean" on a misspelt key.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            const std::size_t change = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + change});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// " (did you mean X?)" for the closest key in `section` ("" = top level,
// where section names count too) within two edits, else "".
std::string suggestion(std::string_view name, std::string_view section) {
    constexpr std::size_t kMaxEdits = 2;
    std::string_view best;
    std::size_t best_distance = kMaxEdits + 1;
    auto consider = [&](std::string_view candidate) {
        const std::size_t d = edit_distance(name, candidate);
        if (d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    };
    for (const Field& f : kFields)
        if (section_of(f.bind.key) == section) consider(name_of(f.bind.key));
    if (section.empty())
        for (const Section& s : kSections)
            consider(s.name);
    return best.empty() ? "" : " (did you mean " + std::string(best) + "?)";
}

}  // namespace

std::span<const Field> fields() {
    return kFields;
}
std::span<const Section> sections() {
    return kSections;
}

const Field* find_field(std::string_view key) {
    const auto it = std::find_if(kFields.begin(), kFields.end(),
                                 [key](const Field& f) { return f.bind.key == key; });
    return it == kFields.end() ? nullptr : &*it;
}

const Section* find_section(std::string_view name) {
    const auto it = std::find_if(kSections.begin(), kSections.end(),
                                 [name](const Section& s) { return s.name == name; });
    return it == kSections.end() ? nullptr : &*it;
}

std::string_view section_of(std::string_view key) {
    const auto dot = key.find('.');
    return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

std::string_view name_of(std::string_view key) {
    const auto dot = key.find('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

void find_unknown_keys(const nlohmann::json& doc, std::vector<std::string>& errors) {
    for (const auto& [key, value] : doc.items()) {
        if (find_field(key) != nullptr) continue;
        if (!is_section(key)) {
            errors.push_back(key + ": unknown key" + suggestion(key, ""));
            continue;
        }
        if (!value.is_object()) {
            errors.push_back(key + ": must be an object, got " + value.type_name());
            continue;
        }
        for (const auto& [name, ignored] : value.items()) {
            const std::string path = key + "." + name;
            if (find_field(path) == nullptr)
                errors.push_back(path + ": unknown key" + suggestion(name, key));
        }
    }
}

}  // namespace postern::config
