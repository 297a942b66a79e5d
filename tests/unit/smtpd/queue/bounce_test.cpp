// Bounces (RFC 3464 reports) and retry timing: pure functions of the
// envelope, the original message file and the settings.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "smtpd/queue/bounce.h"
#include "smtpd/queue/delivery_job.h"
#include "tests/support/temp_dir.h"

namespace postern::queue {
namespace {

const std::string kOriginal =
    "Received: from client\r\nSubject: hello\r\nFrom: a@example.test\r\n\r\nThe body.\r\n";

store::Envelope failed_envelope() {
    store::Envelope e;
    e.id = "00066116dcc4662c650b3668";
    e.sender = "a@example.test";
    e.envid = "env-1";
    e.arrival = 1764000000;
    e.size = kOriginal.size();
    store::QueuedRecipient ok;
    ok.address = "ok@remote.test";
    ok.state = store::RecipientState::Delivered;
    store::QueuedRecipient bad;
    bad.address = "bad@remote.test";
    bad.orcpt = "rfc822;Bad@remote.test";
    bad.state = store::RecipientState::Failed;
    bad.last_reply = "550 5.1.1 No such user";
    bad.remote_host = "mx.remote.test[192.0.2.1]";
    e.recipients = {ok, bad};
    return e;
}

std::string render(const Bounce& b) {
    std::string out;
    auto st = stream_bounce(b, [&](std::string_view piece) {
        out += piece;
        return true;
    });
    REQUIRE_MESSAGE(st.ok(), st.error().message);
    return out;
}

struct Original {
    test::TempDir dir;
    std::filesystem::path path = dir.path() / "msg";
    Original() { std::ofstream(path, std::ios::binary) << kOriginal; }
};

TEST_CASE("bounce: a delivery-status report for the failed recipients only") {
    Original original;
    auto b = make_bounce(failed_envelope(), {1}, original.path, "mail.example.test", 1764000100);
    CHECK(b.envelope.sender.empty());  // RFC 5321 §4.5.5: bounces have the null sender
    REQUIRE(b.envelope.recipients.size() == 1);
    CHECK(b.envelope.recipients[0].address == "a@example.test");
    const std::string text = render(b);
    for (const char* want : {
             "\r\nContent-Type: multipart/report; report-type=delivery-status;",
             "Auto-Submitted: auto-replied\r\n",
             "\r\nReporting-MTA: dns; mail.example.test\r\n",
             "\r\nOriginal-Envelope-Id: env-1\r\n",
             "\r\nFinal-Recipient: rfc822; bad@remote.test\r\n",
             "\r\nOriginal-Recipient: rfc822;Bad@remote.test\r\n",
             "\r\nAction: failed\r\nStatus: 5.1.1\r\n",
             "\r\nRemote-MTA: dns; mx.remote.test[192.0.2.1]\r\n",
             "\r\nDiagnostic-Code: smtp; 550 5.1.1 No such user\r\n",
             "\r\nContent-Type: text/rfc822-headers\r\n\r\nReceived: from client\r\n",
         }) {
        CHECK_MESSAGE(text.find(want) != std::string::npos, "missing " << want << " in\n" << text);
    }
    CHECK_MESSAGE(text.find("ok@remote.test") == std::string::npos, "delivered ones stay out");
    CHECK_MESSAGE(text.find("The body.") == std::string::npos, "headers only by default");
    CHECK(text.ends_with("--\r\n"));
}

TEST_CASE("bounce: RET=FULL returns the whole message") {
    Original original;
    auto e = failed_envelope();
    e.ret_full = true;
    const std::string text = render(make_bounce(e, {1}, original.path, "mx", 1));
    CHECK(text.find("\r\nContent-Type: message/rfc822\r\n\r\n" + kOriginal) != std::string::npos);
}

TEST_CASE("bounce: who wants one (RFC 3461 §4.1 NOTIFY, null sender)") {
    auto e = failed_envelope();
    CHECK(wants_failure_notice(e, {1}));  // no NOTIFY: failures are reported
    e.recipients[1].notify = store::kNotifyNever;
    CHECK_FALSE(wants_failure_notice(e, {1}));
    e.recipients[1].notify = store::kNotifySuccess | store::kNotifyDelay;
    CHECK_FALSE(wants_failure_notice(e, {1}));
    e.recipients[1].notify = store::kNotifyFailure;
    CHECK(wants_failure_notice(e, {1}));
    e.sender.clear();
    CHECK_FALSE(wants_failure_notice(e, {1}));  // never bounce a bounce
}

TEST_CASE("retry delay doubles from retry_min up to retry_max") {
    JobSettings s;
    s.retry_min_seconds = 300;
    s.retry_max_seconds = 4 * 3600;
    const std::int64_t want[] = {300, 300, 600, 1200, 2400, 4800, 9600, 14400, 14400};
    for (std::uint32_t attempts = 0; attempts < std::size(want); ++attempts) {
        CHECK_MESSAGE(retry_delay(s, attempts) == want[attempts],
                      "attempts " << attempts << ": got " << retry_delay(s, attempts) << ", want "
                                  << want[attempts]);
    }
    CHECK(retry_delay(s, 1000) == 14400);
}

TEST_CASE("domain_of lower-cases the domain and keeps nothing else") {
    CHECK(domain_of("Bob@Remote.TEST") == "remote.test");
    CHECK(domain_of("\"a@b\"@c.test") == "c.test");
    CHECK(domain_of("postmaster").empty());
}

}  // namespace
}  // namespace postern::queue
