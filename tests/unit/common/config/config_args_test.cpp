#include <doctest/doctest.h>

#include "common/config/config.h"

namespace postern::config {
namespace {

struct ArgsRow {
    std::string name;
    std::vector<std::string> args;
    const char* env;
    std::string want_path;  // empty: want an error
    std::vector<std::string> want_rest = {};
};

}  // namespace

TEST_CASE("find_config_path: -c wins over POSTERN_CONFIG, which wins over the default") {
    const std::vector<ArgsRow> rows = {
        {.name = "default", .args = {}, .env = nullptr, .want_path = kDefaultConfigPath},
        {.name = "empty env", .args = {}, .env = "", .want_path = kDefaultConfigPath},
        {.name = "env",
         .args = {"serve"},
         .env = "/e.json",
         .want_path = "/e.json",
         .want_rest = {"serve"}},
        {.name = "-c",
         .args = {"-c", "a.json", "serve"},
         .env = "/e.json",
         .want_path = "a.json",
         .want_rest = {"serve"}},
        {.name = "-cFILE",
         .args = {"serve", "-ca.json"},
         .env = nullptr,
         .want_path = "a.json",
         .want_rest = {"serve"}},
        {.name = "--config",
         .args = {"--config", "b.json", "x"},
         .env = nullptr,
         .want_path = "b.json",
         .want_rest = {"x"}},
        {.name = "--config=", .args = {"--config=c.json"}, .env = nullptr, .want_path = "c.json"},
        {.name = "after --",
         .args = {"--", "-c", "x"},
         .env = nullptr,
         .want_path = kDefaultConfigPath,
         .want_rest = {"--", "-c", "x"}},
        {.name = "missing FILE", .args = {"serve", "-c"}, .env = nullptr, .want_path = ""},
        {.name = "empty FILE", .args = {"--config="}, .env = nullptr, .want_path = ""},
        {.name = "twice", .args = {"-c", "a", "-c", "b"}, .env = nullptr, .want_path = ""},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        auto got = find_config_path(row.args, row.env);
        if (row.want_path.empty()) {
            CHECK_MESSAGE(!got.ok(), "got a path, want an error");
            continue;
        }
        REQUIRE_MESSAGE(got.ok(), "got error ", got.error().message);
        CHECK_MESSAGE(got->path == row.want_path, "got ", got->path, ", want ", row.want_path);
        CHECK(got->rest == row.want_rest);
    }
}

TEST_CASE("resolve_config_path reads argv after the program name") {
    const char* argv[] = {"smtpd", "-c", "/x/postern.json", "--foreground"};
    auto got = resolve_config_path(4, argv);
    REQUIRE(got.ok());
    CHECK(got->path == "/x/postern.json");
    CHECK(got->rest == std::vector<std::string>{"--foreground"});
}

}  // namespace postern::config
