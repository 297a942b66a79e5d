#include <unistd.h>

#include <fstream>

#include <doctest/doctest.h>

#include "common/config/config.h"
#include "tests/support/temp_dir.h"

namespace postern::config {
namespace {

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

Config must_load(std::string_view text, const std::filesystem::path& base = "/etc/postern") {
    auto got = load_text(text, base);
    REQUIRE_MESSAGE(got.ok(), "got error \"", got.error().message, "\", want success");
    return std::move(got).value();
}

struct ErrorRow {
    std::string name;
    std::string text;
    std::string want;  // the message must contain this
};

}  // namespace

TEST_CASE("defaults load from {}") {
    const Config c = must_load("{}");
    CHECK(!c.hostname.empty());
    CHECK(c.log_level == log::Level::Info);
    CHECK(c.user.empty());
    CHECK(c.paths.data_dir == "/etc/postern/data");
    CHECK(c.paths.queue_dir == "/etc/postern/queue");
    CHECK(c.paths.run_dir == "/etc/postern/run");
    CHECK(c.paths.bin_dir.empty());
    CHECK(c.tls.cert_file == "/etc/postern/tls/cert.pem");
    CHECK(c.auth.allow_plaintext_on_loopback == false);
    CHECK(c.auth.cache_seconds == 300);
    CHECK(c.auth.max_failures_per_ip == 10);
    CHECK(c.auth.max_failures_per_user == 5);
    CHECK(c.auth.failure_window_seconds == 900);
    CHECK(c.auth.failure_delay_ms == 1000);
    REQUIRE(c.listen.smtp.size() == 2);
    CHECK(c.listen.smtp[0] == Endpoint{"0.0.0.0", 25});
    CHECK(c.listen.smtp[1] == Endpoint{"::", 25});
    CHECK(c.listen.imaps[0].port == 993);
    CHECK(c.listen.pop3s[1] == Endpoint{"::", 995});
    CHECK(c.listen.lmtp == "/etc/postern/run/lmtp.sock");
    CHECK(c.connections.max_total == 1000);
    CHECK(c.connections.max_per_ip == 20);
    CHECK(c.smtp.max_line_bytes == 4096);
    CHECK(c.smtp.max_message_bytes == 52428800);
    CHECK(c.smtp.max_recipients == 100);
    CHECK(c.smtp.idle_timeout_seconds == 300);
    CHECK(c.imap.max_nonsync_literal_bytes == 4096);
    CHECK(c.imap.idle_timeout_seconds == 1800);
    CHECK(c.pop3.max_line_bytes == 512);
    CHECK(c.pop3.idle_timeout_seconds == 600);
    CHECK(c.delivery.recipient_delimiter == "+");
    CHECK(c.delivery.over_quota == OverQuota::Temporary);
    CHECK(c.delivery.max_mime_nesting_depth == 32);
    CHECK(c.queue.lifetime_seconds == 432000);
    CHECK(c.queue.retry_min_seconds == 300);
    CHECK(c.queue.retry_max_seconds == 14400);
    CHECK(c.queue.remote_port == 25);
    CHECK(!c.queue.nameserver);
    CHECK(!c.queue.relayhost);
    CHECK(c.config_file.empty());
}

TEST_CASE("an empty hostname becomes the machine's hostname") {
    char name[256] = {};
    REQUIRE(gethostname(name, sizeof name - 1) == 0);
    CHECK(must_load("{}").hostname == name);
    CHECK(must_load(R"({"hostname": "mx.example.net"})").hostname == "mx.example.net");
}

TEST_CASE("values given override the defaults, with comments anywhere") {
    const Config c = must_load(R"(
        // a line comment
        {
          /* a block comment */
          "hostname": "mx.example.net",  // trailing
          "log_level": "debug",
          "user": "postern", "group": "postern",
          "listen": {"smtp": ["127.0.0.1:2525", "[::1]:2525", "localhost:26"], "pop3": []},
          "smtp": {"max_recipients": 10000, "submission_hide_client_ip": true},
          "delivery": {"over_quota": "permanent", "recipient_delimiter": "+-"},
          "queue": {"nameserver": "127.0.0.1:5353", "relayhost": "smtp.example.net:587",
                    "relayhost_user": "me", "relayhost_password_file": "secret/relay"}
        })");
    CHECK(c.hostname == "mx.example.net");
    CHECK(c.log_level == log::Level::Debug);
    CHECK(c.user == "postern");
    CHECK(c.listen.smtp ==
          std::vector<Endpoint>{{"127.0.0.1", 2525}, {"::1", 2525}, {"localhost", 26}});
    CHECK(c.listen.pop3.empty());
    CHECK(c.smtp.max_recipients == 10000);
    CHECK(c.smtp.submission_hide_client_ip);
    CHECK(c.delivery.over_quota == OverQuota::Permanent);
    CHECK(c.delivery.recipient_delimiter == "+-");
    REQUIRE(c.queue.nameserver);
    CHECK(*c.queue.nameserver == Endpoint{"127.0.0.1", 5353});
    REQUIRE(c.queue.relayhost);
    CHECK(*c.queue.relayhost == Endpoint{"smtp.example.net", 587});
    CHECK(c.queue.relayhost_password_file == "/etc/postern/secret/relay");
}

TEST_CASE("every enum choice maps to its enumerator") {
    CHECK(must_load(R"({"log_level": "debug"})").log_level == log::Level::Debug);
    CHECK(must_load(R"({"log_level": "info"})").log_level == log::Level::Info);
    CHECK(must_load(R"({"log_level": "warn"})").log_level == log::Level::Warn);
    CHECK(must_load(R"({"log_level": "error"})").log_level == log::Level::Error);
    CHECK(must_load(R"({"delivery": {"over_quota": "temporary"}})").delivery.over_quota ==
          OverQuota::Temporary);
}

TEST_CASE("every error names the key path") {
    const ErrorRow rows[] = {
        {"unknown top-level key", R"({"hostnme": "x"})", "hostnme: unknown key"},
        {"unknown section", R"({"smtpd": {}})", "smtpd: unknown key"},
        {"unknown nested key", R"({"smtp": {"max_recipents": 5}})",
         "smtp.max_recipents: unknown key"},
        {"section not an object", R"({"smtp": 5})", "smtp: must be an object, got number"},
        {"wrong type: string for uint", R"({"smtp": {"max_recipients": "100"}})",
         "smtp.max_recipients: must be an unsigned integer, got \"100\""},
        {"wrong type: float", R"({"smtp": {"max_recipients": 1.5}})",
         "smtp.max_recipients: must be an unsigned integer, got number 1.5"},
        {"wrong type: bool", R"({"auth": {"allow_plaintext_on_loopback": 1}})",
         "auth.allow_plaintext_on_loopback: must be true or false, got number 1"},
        {"wrong type: string", R"({"hostname": 7})", "hostname: must be a string, got number 7"},
        {"wrong type: path", R"({"paths": {"data_dir": null}})",
         "paths.data_dir: must be a string, got null"},
        {"wrong type: list", R"({"listen": {"smtp": "127.0.0.1:25"}})",
         "listen.smtp: must be a list"},
        {"below range", R"({"smtp": {"max_recipients": 0}})",
         "smtp.max_recipients: must be between 1 and 10000, got 0"},
        {"above range", R"({"smtp": {"max_recipients": 10001}})",
         "smtp.max_recipients: must be between 1 and 10000, got 10001"},
        {"negative", R"({"smtp": {"max_line_bytes": -1}})",
         "smtp.max_line_bytes: must be between 512 and 1048576, got -1"},
        {"under the RFC minimum", R"({"smtp": {"max_line_bytes": 511}})",
         "smtp.max_line_bytes: must be between 512"},
        {"bad enum", R"({"log_level": "verbose"})",
         "log_level: must be one of debug, info, warn, error, got \"verbose\""},
        {"bad enum, nested", R"({"delivery": {"over_quota": "bounce"}})",
         "delivery.over_quota: must be one of temporary, permanent"},
        {"listen without port", R"({"listen": {"smtp": ["1.2.3.4"]}})",
         "listen.smtp[0]: \"1.2.3.4\": missing :port"},
        {"listen bad IPv4", R"({"listen": {"imap": ["127.0.0.1:143", "300.1.1.1:25"]}})",
         "listen.imap[1]: \"300.1.1.1:25\": host must be"},
        {"listen port 0", R"({"listen": {"pop3s": ["[::1]:0"]}})",
         "listen.pop3s[0]: \"[::1]:0\": port must be between 1 and 65535, got 0"},
        {"listen element not a string", R"({"listen": {"smtp": [25]}})",
         "listen.smtp[0]: must be a \"host:port\" string, got number 25"},
        {"listen DNS name", R"({"listen": {"smtp": ["mx.example.net:25"]}})",
         "listen.smtp[0]: \"mx.example.net:25\": host must be"},
        {"bad nameserver", R"({"queue": {"nameserver": "dns.example:53"}})",
         "queue.nameserver: \"dns.example:53\": host must be"},
        {"bad relayhost", R"({"queue": {"relayhost": "smtp.example.net"}})",
         "queue.relayhost: \"smtp.example.net\": missing :port"},
        {"bad hostname", R"({"hostname": "mx example"})", "hostname: must be a domain name"},
        {"bad delimiter", R"({"delivery": {"recipient_delimiter": "@"}})",
         "delivery.recipient_delimiter: must be ASCII punctuation"},
        {"bad user", R"({"user": "root;rm"})", "user: must be a user or group name"},
        {"NUL in a path", "{\"paths\": {\"run_dir\": \"a\\u0000b\"}}",
         "paths.run_dir: must not contain NUL"},
        {"retry min over max", R"({"queue": {"retry_min_seconds": 600, "retry_max_seconds": 60}})",
         "queue.retry_max_seconds: must be at least queue.retry_min_seconds (600), got 60"},
        {"nonsync literal over literal",
         R"({"imap": {"max_literal_bytes": 2048, "max_nonsync_literal_bytes": 4096}})",
         "imap.max_nonsync_literal_bytes: must be at most imap.max_literal_bytes (2048), got 4096"},
        {"relay user without relayhost", R"({"queue": {"relayhost_user": "me",
          "relayhost_password_file": "p"}})",
         "queue.relayhost_user: set, but queue.relayhost is empty"},
        {"relay user without password",
         R"({"queue": {"relayhost_user": "me", "relayhost": "[::1]:587"}})",
         "queue.relayhost_password_file: required"},
        {"lmtp socket path too long",
         R"({"listen": {"lmtp": "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"}})",
         "listen.lmtp: unix socket path is 114 bytes"},
        {"not an object", R"([1, 2])", "must hold one JSON object, got array"},
        {"misspelt key gets a suggestion", R"({"smtp": {"max_recipents": 5}})",
         "smtp.max_recipents: unknown key (did you mean max_recipients?)"},
        {"misspelt section gets a suggestion", R"({"lisen": {}})",
         "lisen: unknown key (did you mean listen?)"},
        {"duplicate key", R"({"user": "a", "user": "b"})", "user: given twice"},
        {"duplicate nested key", R"({"smtp": {"max_recipients": 5, "max_recipients": 6}})",
         "smtp.max_recipients: given twice"},
        {"endpoint used twice in a list", R"({"listen": {"smtp": ["[::1]:25", "[::1]:25"]}})",
         "listen.smtp[1]: [::1]:25 is already used by listen.smtp[0]"},
        {"endpoint used by two services",
         R"({"listen": {"smtp": ["127.0.0.1:2525"], "pop3": ["127.0.0.1:2525"]}})",
         "listen.pop3[0]: 127.0.0.1:2525 is already used by listen.smtp[0]"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        auto got = load_text(row.text, "/etc/postern");
        REQUIRE_MESSAGE(!got.ok(), "got success, want an error containing ", row.want);
        CHECK_MESSAGE(contains(got.error().message, row.want), "got \"", got.error().message,
                      "\", want it to contain \"", row.want, "\"");
    }
}

TEST_CASE("all errors are reported, one per line") {
    auto got = load_text(R"({"a": 1, "smtp": {"max_recipients": 0}, "log_level": "x"})", "/");
    REQUIRE(!got.ok());
    const std::string& m = got.error().message;
    CHECK_MESSAGE(m == "a: unknown key\n"
                       "log_level: must be one of debug, info, warn, error, got \"x\"\n"
                       "smtp.max_recipients: must be between 1 and 10000, got 0",
                  "got \"", m, "\"");
}

TEST_CASE("a syntax error reports line and column") {
    const ErrorRow rows[] = {
        {"missing comma", "{\n  \"hostname\": \"a\"\n  \"user\": \"b\"\n}", "line 3, column 8: "},
        {"trailing comma", "{\n  \"user\": \"b\",\n}", "line 3, column 1: "},
        {"unterminated comment", "{}\n/* open", "line 2, column "},
        {"empty text", "", "line 1, column 1: "},
        {"truncated", "{\"smtp\": {", "line 1, column 11: "},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        auto got = load_text(row.text, "/");
        REQUIRE_MESSAGE(!got.ok(), "got success, want a syntax error");
        CHECK_MESSAGE(contains(got.error().message, row.want), "got \"", got.error().message,
                      "\", want it to contain \"", row.want, "\"");
        CHECK(contains(got.error().message, "invalid JSON"));
    }
}

TEST_CASE("relative paths resolve against the file's directory; absolute ones stay") {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "etc");
    const auto file = dir.path() / "etc" / "postern.json";
    std::ofstream(file) << R"({
        // relative, absolute, and with ..
        "paths": {"data_dir": "../var/data", "queue_dir": "/srv/queue", "run_dir": "./run"},
        "tls": {"cert_file": "tls/cert.pem"}
    })";
    auto got = load_file(file);
    REQUIRE_MESSAGE(got.ok(), "got error ", got.error().message);
    CHECK(got->config_file == file);
    CHECK(got->paths.data_dir == dir.path() / "var" / "data");
    CHECK(got->paths.queue_dir == "/srv/queue");
    CHECK(got->paths.run_dir == dir.path() / "etc" / "run");
    CHECK(got->tls.cert_file == dir.path() / "etc" / "tls" / "cert.pem");
    CHECK(got->listen.lmtp == dir.path() / "etc" / "run" / "lmtp.sock");
    CHECK(got->paths.bin_dir.empty());
}

TEST_CASE("load_file names the file in every error line") {
    test::TempDir dir;
    const auto file = dir.path() / "postern.json";
    std::ofstream(file) << R"({"x": 1, "y": 2})";
    auto got = load_file(file);
    REQUIRE(!got.ok());
    const std::string want =
        file.string() + ": x: unknown key\n" + file.string() + ": y: unknown key";
    CHECK_MESSAGE(got.error().message == want, "got \"", got.error().message, "\", want \"", want,
                  "\"");

    auto missing = load_file(dir.path() / "nope.json");
    REQUIRE(!missing.ok());
    CHECK(contains(missing.error().message, "nope.json: cannot open: No such file or directory"));
}

}  // namespace postern::config
