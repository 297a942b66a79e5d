#include "smtpd/smtp_service.h"

#include <cstdlib>

#include <filesystem>

#include "smtpd/smtp_session.h"
#include "storage/data_dir.h"

namespace postern::smtp {
namespace {

// mda's pool is as large (mda/main.cpp): one thread per delivery in flight.
constexpr const char* kPoolThreads = "16";

daemon::ListenerPlan plan_for(const config::Config& cfg, std::string name,
                              const std::vector<config::Endpoint>& endpoints, bool implicit_tls) {
    const auto& s = cfg.smtp;
    daemon::ListenerPlan plan;
    plan.name = std::move(name);
    plan.addresses = daemon::addresses_of(endpoints);
    plan.implicit_tls = implicit_tls;
    plan.limits =
        daemon::limits_from(cfg, s.max_line_bytes, s.idle_timeout_seconds, s.max_bad_commands);
    plan.limits.session_timeout = std::chrono::seconds(s.session_timeout_seconds);
    // A BDAT chunk is streamed, never buffered: the message limit bounds it.
    plan.limits.max_literal_bytes = static_cast<std::size_t>(s.max_message_bytes);
    plan.refusal_line = "421 4.7.0 " + cfg.hostname + " Too many connections, try again later\r\n";
    plan.shutdown_line = "421 4.3.2 " + cfg.hostname + " Service shutting down";
    return plan;
}

}  // namespace

SmtpContext context_from(const config::Config& cfg, SmtpProfile profile) {
    SmtpContext c;
    c.profile = std::move(profile);
    c.limits.max_message_bytes = cfg.smtp.max_message_bytes;
    c.limits.max_recipients = static_cast<std::size_t>(cfg.smtp.max_recipients);
    c.limits.max_received_headers = static_cast<std::size_t>(cfg.smtp.max_received_headers);
    c.hostname = cfg.hostname;
    c.directory_db = store::DataDir(cfg.paths.data_dir).directory_db();
    c.lmtp_socket = cfg.listen.lmtp;
    std::error_code ec;
    c.spool_dir = std::filesystem::is_directory(cfg.paths.queue_dir, ec)
                      ? cfg.paths.queue_dir
                      : std::filesystem::temp_directory_path(ec);
    c.queue_dir = cfg.paths.queue_dir;
    c.recipient_delimiter = cfg.delivery.recipient_delimiter;
    c.allow_plaintext_auth_on_loopback = cfg.auth.allow_plaintext_on_loopback;
    return c;
}

std::vector<daemon::ListenerPlan> mx_listeners(const config::Config& cfg) {
    return {plan_for(cfg, "smtp", cfg.listen.smtp, false)};
}

std::vector<daemon::ListenerPlan> submission_listeners(const config::Config& cfg) {
    return {plan_for(cfg, "submission", cfg.listen.submission, false),
            plan_for(cfg, "submissions", cfg.listen.submissions, true)};
}

Status SmtpService::start(daemon::Runtime& runtime) {
    const auto& cfg = runtime.config;
    SmtpProfile profile =
        submission_ ? submission_profile(cfg.smtp.submission_hide_client_ip) : mx_profile();
    context_ = std::make_unique<SmtpContext>(context_from(cfg, std::move(profile)));
    context_->tls = runtime.tls;
    context_->tracker = &runtime.tracker;
    if (submission_) {
        auth_cache_ =
            std::make_unique<store::AuthCache>(std::chrono::seconds(cfg.auth.cache_seconds));
        context_->auth_cache = auth_cache_.get();
    }
    std::error_code ec;
    if (!std::filesystem::exists(context_->directory_db, ec))
        return fail("no directory database at " + context_->directory_db.string());
    return {};
}

net::SessionFactory SmtpService::session_factory(daemon::Runtime&, const daemon::ListenerPlan&) {
    const SmtpContext* context = context_.get();
    return [context](net::SessionInit init) -> std::unique_ptr<net::Session> {
        return std::make_unique<SmtpSession>(std::move(init), *context);
    };
}

int run_smtp_daemon(int argc, char** argv, bool submission) {
    // Each message's hand-off to mda holds a pool thread through mda's
    // fsyncs, and RCPT lookups share the pool: libuv's default of 4 threads
    // would let only 4 messages reach mda at once. An explicit
    // UV_THREADPOOL_SIZE in the environment wins.
    ::setenv("UV_THREADPOOL_SIZE", kPoolThreads, 0);
    daemon::ServiceSpec spec;
    spec.name = submission ? "submissiond" : "smtpd";
    spec.needs_tls = true;
    spec.listeners = submission ? submission_listeners : mx_listeners;
    spec.make_service = [submission] { return std::make_unique<SmtpService>(submission); };
    return daemon::run(argc, argv, spec);
}

}  // namespace postern::smtp
