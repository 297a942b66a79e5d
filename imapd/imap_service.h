// The imapd service for the daemon skeleton (common/daemon/daemon.h): which
// listeners to open (listen.imap with STARTTLS, listen.imaps with implicit
// TLS), the shared ImapContext built from the config, and the session
// factory. Runs only after the privilege drop (Service::start).
#pragma once

#include <memory>
#include <vector>

#include "common/daemon/daemon.h"
#include "imapd/imap_changes.h"
#include "imapd/imap_session.h"

namespace postern::imap {

ImapLimits limits_from_config(const config::Config& cfg);
std::vector<daemon::ListenerPlan> imap_listeners(const config::Config& cfg);

class ImapService final : public daemon::Service {
  public:
    Status start(daemon::Runtime& runtime) override;
    net::SessionFactory session_factory(daemon::Runtime& runtime,
                                        const daemon::ListenerPlan& plan) override;

  private:
    ImapContext context_;
    std::unique_ptr<ChangeHub> changes_;
    std::unique_ptr<store::AuthCache> auth_cache_;
};

}  // namespace postern::imap
