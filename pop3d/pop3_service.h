// The pop3d service for the daemon skeleton (common/daemon/daemon.h):
// listeners from config.listen.pop3 (STLS) and listen.pop3s (implicit TLS),
// and one Pop3Context shared by all sessions of both.
#pragma once

#include <memory>
#include <vector>

#include "common/daemon/daemon.h"
#include "pop3d/pop3_session.h"

namespace postern::pop3 {

std::vector<daemon::ListenerPlan> listener_plans(const config::Config& cfg);

class Pop3Service final : public daemon::Service {
  public:
    Status start(daemon::Runtime& runtime) override;
    net::SessionFactory session_factory(daemon::Runtime& runtime,
                                        const daemon::ListenerPlan& plan) override;

  private:
    std::shared_ptr<Pop3Context> context_;
};

}  // namespace postern::pop3
