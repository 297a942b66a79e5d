#include "imapd/imap_service.h"

#include <algorithm>
#include <chrono>

namespace postern::imap {

ImapLimits limits_from_config(const config::Config& cfg) {
    ImapLimits limits;
    limits.max_line_bytes = cfg.imap.max_line_bytes;
    limits.max_literal_bytes = cfg.imap.max_literal_bytes;
    limits.max_nonsync_literal_bytes = cfg.imap.max_nonsync_literal_bytes;
    limits.max_bad_commands = static_cast<unsigned>(cfg.imap.max_bad_commands);
    limits.idle_timeout = std::chrono::seconds(cfg.imap.idle_timeout_seconds);
    return limits;
}

namespace {

// ImapSession enforces silence and lifetime itself (IDLE changes both, and
// net::Session's timers cannot be extended); the net timers stay as
// backstops that never fire first. A week bounds even a client that idles
// forever. TODO(net): drop once net::Session can extend its deadline.
constexpr std::chrono::minutes kBackstopMargin{5};
constexpr std::chrono::hours kBackstopLifetime{24 * 7};

}  // namespace

std::vector<daemon::ListenerPlan> imap_listeners(const config::Config& cfg) {
    net::ConnectionLimits limits = daemon::limits_from(
        cfg, cfg.imap.max_line_bytes, cfg.imap.idle_timeout_seconds, cfg.imap.max_bad_commands);
    limits.max_literal_bytes = cfg.imap.max_literal_bytes;
    ImapLimits imap = limits_from_config(cfg);
    limits.idle_timeout = std::max(imap.idle_timeout, imap.idle_keepalive) + kBackstopMargin;
    limits.session_timeout = kBackstopLifetime;
    std::vector<daemon::ListenerPlan> plans;
    auto add = [&](const char* name, const std::vector<config::Endpoint>& endpoints, bool tls) {
        if (endpoints.empty()) return;
        plans.push_back(daemon::ListenerPlan{
            .name = name,
            .addresses = daemon::addresses_of(endpoints),
            .implicit_tls = tls,
            .limits = limits,
            .refusal_line = "* BYE Too many connections\r\n",
            .shutdown_line = "* BYE Server shutting down",
        });
    };
    add("imap", cfg.listen.imap, false);
    add("imaps", cfg.listen.imaps, true);
    return plans;
}

Status ImapService::start(daemon::Runtime& runtime) {
    const config::Config& cfg = runtime.config;
    context_.limits = limits_from_config(cfg);
    context_.data_dir = cfg.paths.data_dir;
    context_.tls = runtime.tls;
    context_.tracker = &runtime.tracker;
    context_.allow_plaintext_on_loopback = cfg.auth.allow_plaintext_on_loopback;
    changes_ = std::make_unique<ChangeHub>(runtime.loop);
    context_.changes = changes_.get();
    auth_cache_ = std::make_unique<store::AuthCache>(std::chrono::seconds(cfg.auth.cache_seconds));
    context_.auth_cache = auth_cache_.get();
    return {};
}

net::SessionFactory ImapService::session_factory(daemon::Runtime&, const daemon::ListenerPlan&) {
    return [this](net::SessionInit init) -> std::unique_ptr<net::Session> {
        return std::make_unique<ImapSession>(std::move(init), context_);
    };
}

}  // namespace postern::imap
