#include "common/log/log.h"

#include <doctest/doctest.h>

namespace postern::log {

struct Capture {
    std::string text;
    Capture() { capture_for_test(&text); }
    ~Capture() { capture_for_test(nullptr); }
};

TEST_CASE("a line carries program, session context, event and fields") {
    Capture cap;
    init("smtpd", Level::Info);
    const auto ctx = LogContext::for_session(0x3f2a91c0, "[192.0.2.7]:51234");
    info(ctx, "disconnect").kv("reason", "timeout").kv("bytes", 81920);
    CHECK(cap.text.find("smtpd[") != std::string::npos);
    CHECK(cap.text.find(
              "] s=3f2a91c0 peer=[192.0.2.7]:51234 disconnect reason=timeout bytes=81920\n") !=
          std::string::npos);
}

TEST_CASE("secrets are never written") {
    Capture cap;
    init("imapd", Level::Info);
    const Secret<std::string> password("hunter2");
    warn("auth-failed").kv("user", "alice@example.test").kv("password", password);
    CHECK(cap.text.find("hunter2") == std::string::npos);
    CHECK(cap.text.find("password=********") != std::string::npos);
}

TEST_CASE("hostile values are quoted and escaped, one line each") {
    Capture cap;
    init("smtpd", Level::Info);
    info("command").kv("line", "EHLO x\r\nMAIL FROM:<a>");
    CHECK(cap.text.find("line=\"EHLO x\\x0d\\x0aMAIL FROM:<a>\"") != std::string::npos);
    CHECK(cap.text.find('\n') == cap.text.size() - 1);
}

TEST_CASE("lines below the level are dropped") {
    Capture cap;
    init("pop3d", Level::Warn);
    info("noise");
    CHECK(cap.text.empty());
    error("disk").kv("errno", 28);
    CHECK(cap.text.find("error: disk errno=28") != std::string::npos);
}

}  // namespace postern::log
