#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "common/config/config.h"
#include "common/config/schema.h"

namespace postern::config {
namespace {

const std::filesystem::path kSamplePath =
    std::filesystem::path(POSTERN_SOURCE_DIR) / "etc" / "postern.json.sample";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("etc/postern.json.sample is the rendered schema") {
    const std::string checked_in = read_file(kSamplePath);
    REQUIRE_MESSAGE(!checked_in.empty(), "cannot read ", kSamplePath.string());
    // On failure, regenerate: see tests/unit/common/config/meson.build.
    CHECK_MESSAGE(checked_in == render_sample(), kSamplePath.string(),
                  " is out of date: got the checked-in file, want render_sample()");
}

TEST_CASE("the sample loads and gives the defaults") {
    auto sample = load_file(kSamplePath);
    REQUIRE_MESSAGE(sample.ok(), "got error ", sample.error().message);
    auto defaults = load_text("{}", kSamplePath.parent_path());
    REQUIRE(defaults.ok());
    CHECK(sample->smtp.max_recipients == defaults->smtp.max_recipients);
    CHECK(sample->listen.submissions == defaults->listen.submissions);
    CHECK(sample->paths.data_dir == defaults->paths.data_dir);
    CHECK(sample->delivery.over_quota == defaults->delivery.over_quota);
}

TEST_CASE("the sample shows every key with its doc") {
    const std::string sample = render_sample();
    for (const Field& f : fields()) {
        CAPTURE(f.bind.key);
        const std::string member = "\"" + std::string(name_of(f.bind.key)) + "\": ";
        CHECK_MESSAGE(sample.find(member) != std::string::npos, "key missing from the sample");
        const std::string doc_start(f.doc.substr(0, f.doc.find(' ', 20)));
        CHECK_MESSAGE(sample.find(doc_start) != std::string::npos, "doc missing: ", doc_start);
    }
    for (const Section& s : sections()) {
        CAPTURE(s.name);
        CHECK(sample.find("\"" + std::string(s.name) + "\": {") != std::string::npos);
    }
    // No line is wider than the wrap column.
    std::istringstream lines(sample);
    for (std::string line; std::getline(lines, line);) {
        CAPTURE(line);
        CHECK(line.size() <= 100);
    }
}

TEST_CASE("render_config writes the overrides and keeps every other default") {
    const nlohmann::json overrides = {
        {"hostname", "mail.test"},
        {"listen", {{"smtp", {"127.0.0.1:10025"}}, {"imaps", nlohmann::json::array()}}},
        {"paths", {{"data_dir", "/srv/mail"}}},
        {"smtp", {{"idle_timeout_seconds", 2}}},
    };
    auto text = render_config(overrides);
    REQUIRE_MESSAGE(text.ok(), "got error ", text.error().message);
    CHECK(text->find("\"hostname\": \"mail.test\",") != std::string::npos);
    CHECK(text->find("\"smtp\": [\"127.0.0.1:10025\"],") != std::string::npos);
    CHECK(text->find("\"imaps\": [],") != std::string::npos);
    auto c = load_text(*text, "/inst");
    REQUIRE_MESSAGE(c.ok(), "got error ", c.error().message);
    CHECK(c->hostname == "mail.test");
    CHECK(c->listen.smtp == std::vector<Endpoint>{{"127.0.0.1", 10025}});
    CHECK(c->listen.imaps.empty());
    CHECK(c->paths.data_dir == "/srv/mail");
    CHECK(c->paths.queue_dir == "/inst/queue");
    CHECK(c->smtp.idle_timeout_seconds == 2);
    CHECK(c->smtp.max_recipients == 100);
}

TEST_CASE("render_config refuses unknown keys and bad values, naming the key") {
    struct Row {
        std::string name;
        nlohmann::json overrides;
        std::string want;
    };
    const Row rows[] = {
        {"unknown key", {{"hostnam", "x"}}, "hostnam: unknown key"},
        {"unknown nested key",
         {{"listen", {{"smtps", nlohmann::json::array()}}}},
         "listen.smtps: unknown key"},
        {"bad value", {{"listen", {{"smtp", {"127.0.0.1"}}}}}, "listen.smtp[0]: "},
        {"out of range", {{"queue", {{"remote_port", 0}}}}, "queue.remote_port: must be between"},
        {"not an object", nlohmann::json::array(), "must be a JSON object"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        auto got = render_config(row.overrides);
        REQUIRE_MESSAGE(!got.ok(), "got success, want an error containing ", row.want);
        CHECK_MESSAGE(got.error().message.find(row.want) != std::string::npos, "got \"",
                      got.error().message, "\", want it to contain \"", row.want, "\"");
    }
}

}  // namespace postern::config
