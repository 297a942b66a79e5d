// See pop3_service.h.
#include "pop3d/pop3_service.h"

namespace postern::pop3 {

namespace {

daemon::ListenerPlan plan_for(const config::Config& cfg, std::string name,
                              const std::vector<config::Endpoint>& endpoints, bool implicit_tls) {
    daemon::ListenerPlan plan;
    plan.name = std::move(name);
    plan.addresses = daemon::addresses_of(endpoints);
    plan.implicit_tls = implicit_tls;
    plan.limits = daemon::limits_from(cfg, cfg.pop3.max_line_bytes, cfg.pop3.idle_timeout_seconds,
                                      cfg.pop3.max_bad_commands);
    plan.refusal_line = "-ERR [SYS/TEMP] Too many connections\r\n";
    plan.shutdown_line = "-ERR [SYS/TEMP] Server shutting down";
    return plan;
}

}  // namespace

std::vector<daemon::ListenerPlan> listener_plans(const config::Config& cfg) {
    std::vector<daemon::ListenerPlan> plans;
    if (!cfg.listen.pop3.empty()) plans.push_back(plan_for(cfg, "pop3", cfg.listen.pop3, false));
    if (!cfg.listen.pop3s.empty()) plans.push_back(plan_for(cfg, "pop3s", cfg.listen.pop3s, true));
    return plans;
}

Status Pop3Service::start(daemon::Runtime& runtime) {
    context_ = std::make_shared<Pop3Context>();
    context_->data_dir = runtime.config.paths.data_dir;
    context_->tls = runtime.tls;
    context_->tracker = &runtime.tracker;
    context_->auth_cache =
        std::make_shared<store::AuthCache>(std::chrono::seconds(runtime.config.auth.cache_seconds));
    context_->allow_plaintext_on_loopback = runtime.config.auth.allow_plaintext_on_loopback;
    context_->limits.max_line_bytes = runtime.config.pop3.max_line_bytes;
    context_->limits.max_bad_commands = static_cast<unsigned>(runtime.config.pop3.max_bad_commands);
    context_->limits.idle_timeout = std::chrono::seconds(runtime.config.pop3.idle_timeout_seconds);
    return {};
}

net::SessionFactory Pop3Service::session_factory(daemon::Runtime&, const daemon::ListenerPlan&) {
    return [context = context_](net::SessionInit init) -> std::unique_ptr<net::Session> {
        return std::make_unique<Pop3Session>(std::move(init), context);
    };
}

}  // namespace postern::pop3
