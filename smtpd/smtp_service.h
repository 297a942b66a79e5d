// The daemon::Service shared by smtpd and submissiond: builds the
// SmtpContext from the config once privileges are dropped, and the
// listener plans for each profile. Each main_*.cpp only picks a profile.
#pragma once

#include <memory>
#include <vector>

#include "common/config/config.h"
#include "common/daemon/daemon.h"
#include "smtpd/smtp_context.h"

namespace postern::smtp {

// The context a config gives (pure; tests build theirs directly).
SmtpContext context_from(const config::Config& cfg, SmtpProfile profile);

// smtpd: listen.smtp (STARTTLS offered).
std::vector<daemon::ListenerPlan> mx_listeners(const config::Config& cfg);
// submissiond: listen.submission (STARTTLS) and listen.submissions (implicit TLS).
std::vector<daemon::ListenerPlan> submission_listeners(const config::Config& cfg);

class SmtpService final : public daemon::Service {
  public:
    explicit SmtpService(bool submission) : submission_(submission) {}

    Status start(daemon::Runtime& runtime) override;
    net::SessionFactory session_factory(daemon::Runtime& runtime,
                                        const daemon::ListenerPlan& plan) override;

  private:
    bool submission_;
    std::unique_ptr<store::AuthCache> auth_cache_;
    std::unique_ptr<SmtpContext> context_;
};

// The whole main() of either program.
int run_smtp_daemon(int argc, char** argv, bool submission);

}  // namespace postern::smtp
