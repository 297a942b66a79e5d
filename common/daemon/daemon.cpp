// The daemon skeleton's run(): the start-up sequence of daemon.h, then the
// loop until SIGTERM/SIGINT has drained the sessions.
//
// Exit codes (sysexits, common/base/sysexits.h):
//   64 bad command line, 78 bad config (the message names the key) or TLS
//   files, 71 a listener cannot bind or the privilege drop failed, 77 asked
//   to switch user without being root, 75 Service::start() failed, 0 after a
//   clean drain.
#include "common/daemon/daemon.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>

#include <signal.h>
#include <unistd.h>

#include "common/base/assert.h"
#include "common/base/sysexits.h"
#include "common/daemon/privileges.h"
#include "common/log/log.h"
#include "common/loop/signals.h"
#include "common/loop/timer.h"

namespace postern::daemon {
namespace {

using namespace std::chrono_literals;

// While draining, how often to look whether every session has ended: the
// Listener has no "last session gone" hook, so a slow timer (never a busy
// loop) polls session_count().
constexpr std::chrono::milliseconds kDrainPoll = 50ms;
// After the shutdown lines are queued, how long their flush may take before
// the daemon leaves anyway (a client that never reads must not hold us).
constexpr std::chrono::milliseconds kCloseFlush = 2s;

// One log line per line of a multi-line message (config errors list every
// problem, one per line).
void log_error_lines(std::string_view event, const std::string& text) {
    std::string_view rest = text;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto line = rest.substr(0, nl);
        if (!line.empty()) log::error(event).kv("error", line);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
}

// One listener: its plan, the factory slot filled after Service::start(),
// and the bound sockets. Member order matters: the listener (and its
// sessions) is destroyed before the factory it calls.
struct Bound {
    ListenerPlan plan;
    std::unique_ptr<net::SessionFactory> factory;
    std::unique_ptr<net::Listener> listener;
};

class Daemon {
  public:
    explicit Daemon(const ServiceSpec& spec) : spec_(spec) {}
    int run(int argc, char** argv);

  private:
    int load_config(int argc, char** argv);
    int load_tls();
    int bind_listeners();
    int bind_one(ListenerPlan plan);
    int drop(const std::optional<PrivilegeTarget>& target);
    int start_service();
    void install_signals();
    void on_reload();
    void on_drain(int signum);
    void close_sessions();
    std::size_t session_count() const;
    std::string describe_listeners() const;

    const ServiceSpec& spec_;
    loop::Loop loop_;  // first member: destroyed last, after every handle
    config::Config config_;
    std::vector<std::string> args_;
    std::unique_ptr<tls::TlsContext> tls_;
    std::unique_ptr<net::PeerTracker> tracker_;
    std::unique_ptr<Runtime> runtime_;
    std::unique_ptr<Service> service_;  // outlives the sessions below
    std::vector<Bound> bound_;
    std::unique_ptr<loop::Signals> signals_;
    std::unique_ptr<loop::Timer> poll_timer_;
    std::unique_ptr<loop::Timer> grace_timer_;
    bool draining_ = false;
    bool closing_ = false;
};

int Daemon::run(int argc, char** argv) {
    log::init(spec_.name, log::Level::Info);
    // A write to a peer that has gone must be an EPIPE for that session, not
    // the death of the daemon (libuv writes with write(2), not MSG_NOSIGNAL).
    ::signal(SIGPIPE, SIG_IGN);
    if (int rc = load_config(argc, argv); rc != kExOk) return rc;
    log::init(spec_.name, config_.log_level);
    install_signals();  // early: a SIGTERM during start-up is a drain, not a kill
    if (int rc = load_tls(); rc != kExOk) return rc;
    auto target = plan_privileges(config_.user, config_.group);
    if (!target) {
        log::error("privileges").kv("error", target.error().message);
        return target.error().exit_code;
    }
    if (int rc = bind_listeners(); rc != kExOk) return rc;
    if (int rc = drop(*target); rc != kExOk) return rc;
    if (int rc = start_service(); rc != kExOk) return rc;
    log::info("started")
        .kv("listeners", describe_listeners())
        .kv("user", effective_user_name())
        .kv("tls", tls_ ? "yes" : "no");
    loop_.run();
    bound_.clear();  // sessions go before the service they point into
    log::info("stopped");
    return kExOk;
}

int Daemon::load_config(int argc, char** argv) {
    auto where = config::resolve_config_path(argc, argv);
    if (!where) {
        log_error_lines("usage", where.error().message);
        return kExUsage;
    }
    auto cfg = config::load_file(where->path);
    if (!cfg) {
        log_error_lines("config-error", cfg.error().message);
        return kExConfig;
    }
    config_ = std::move(*cfg);
    args_ = std::move(where->rest);
    const auto& a = config_.auth;
    net::ThrottlePolicy policy;
    policy.max_failures = static_cast<unsigned>(a.max_failures_per_ip);
    policy.max_failures_per_user = static_cast<unsigned>(a.max_failures_per_user);
    policy.window = std::chrono::seconds(a.failure_window_seconds);
    policy.base_delay = std::chrono::milliseconds(a.failure_delay_ms);
    tracker_ = std::make_unique<net::PeerTracker>(policy);
    return kExOk;
}

int Daemon::load_tls() {
    if (!spec_.needs_tls) return kExOk;
    // Loaded as root, before the drop: the key file may be readable by root only.
    auto ctx =
        tls::TlsContext::server(config_.tls.cert_file.string(), config_.tls.key_file.string());
    if (!ctx) {
        log::error("tls-load-failed")
            .kv("cert_file", config_.tls.cert_file.string())
            .kv("key_file", config_.tls.key_file.string())
            .kv("error", ctx.error().message);
        return kExConfig;
    }
    tls_ = std::move(*ctx);
    return kExOk;
}

int Daemon::bind_listeners() {
    std::vector<ListenerPlan> plans =
        spec_.listeners ? spec_.listeners(config_) : std::vector<ListenerPlan>{};
    for (auto& plan : plans) {
        if (plan.addresses.empty()) {
            log::info("listener-off").kv("service", plan.name);  // an empty list turns it off
            continue;
        }
        if (int rc = bind_one(std::move(plan)); rc != kExOk) return rc;
    }
    if (bound_.empty() && spec_.needs_listener) {
        log::error("config-error").kv("error", "listen: no listener configured for " + spec_.name);
        return kExConfig;
    }
    return kExOk;
}

int Daemon::bind_one(ListenerPlan plan) {
    if (plan.implicit_tls && !tls_) {
        log::error("implicit-tls-without-context").kv("service", plan.name);
        return kExSoftware;  // a ServiceSpec bug: needs_tls must be set
    }
    Bound b{std::move(plan), std::make_unique<net::SessionFactory>(), nullptr};
    net::ListenerSpec spec;
    spec.name = b.plan.name;
    spec.addresses = b.plan.addresses;
    spec.limits = b.plan.limits;
    spec.refusal_line = b.plan.refusal_line;
    // The real factory exists only after Service::start(); the listener does
    // not accept before serve(), which comes after that.
    spec.factory = [slot = b.factory.get()](net::SessionInit init) {
        return (*slot)(std::move(init));
    };
    spec.implicit_tls = b.plan.implicit_tls ? tls_.get() : nullptr;
    spec.tracker = tracker_.get();
    auto listener = net::Listener::bind(loop_, std::move(spec));
    if (!listener) {
        log::error("bind-failed").kv("service", b.plan.name).kv("error", listener.error().message);
        return kExOsErr;
    }
    b.listener = std::move(*listener);
    bound_.push_back(std::move(b));
    return kExOk;
}

int Daemon::drop(const std::optional<PrivilegeTarget>& target) {
    if (!target) {
        if (::geteuid() == 0)
            log::warn("running-as-root").kv("hint", "set user in the config to drop privileges");
        return kExOk;
    }
    // The LMTP socket was created by root; give it to the user that will
    // accept on it (bind(2) made it, so only its owner may chmod it later).
    for (const auto& b : bound_) {
        for (const auto& addr : b.listener->bound()) {
            if (!addr.is_unix()) continue;
            if (::chown(addr.ip_string().c_str(), target->uid, target->gid) != 0) {
                log::error("chown-failed")
                    .kv("socket", addr.ip_string())
                    .kv("error", std::strerror(errno));
                return kExOsErr;
            }
        }
    }
    auto st = drop_privileges(*target);
    if (!st) {
        log::error("privilege-drop-failed").kv("error", st.error().message);
        return st.error().exit_code;
    }
    log::info("privileges-dropped").kv("user", target->user).kv("group", target->group);
    return kExOk;
}

int Daemon::start_service() {
    runtime_.reset(new Runtime{loop_, config_, tls_.get(), *tracker_, args_});
    service_ = spec_.make_service();
    POSTERN_ASSERT(service_ != nullptr);
    if (auto st = service_->start(*runtime_); !st) {
        log::error("service-start-failed").kv("error", st.error().message);
        return kExTempFail;
    }
    for (auto& b : bound_) {
        *b.factory = service_->session_factory(*runtime_, b.plan);
        if (auto st = b.listener->serve(); !st) {
            log::error("listen-failed").kv("service", b.plan.name).kv("error", st.error().message);
            return kExOsErr;
        }
    }
    return kExOk;
}

void Daemon::install_signals() {
    loop::SignalCallbacks callbacks;
    callbacks.on_drain = [this](int signum) { on_drain(signum); };
    callbacks.on_reload = [this] { on_reload(); };
    signals_ = std::make_unique<loop::Signals>(loop_, std::move(callbacks));
}

void Daemon::on_reload() {
    log::info("reload");
    if (tls_) {
        // A broken new pair keeps the old context (TlsContext::reload()).
        if (auto st = tls_->reload(); !st)
            log::error("tls-reload-failed").kv("error", st.error().message).kv("keeping", "old");
        else
            log::info("tls-reloaded").kv("cert_file", config_.tls.cert_file.string());
    }
    if (service_) service_->reload(*runtime_);
}

void Daemon::on_drain(int signum) {
    if (draining_) {
        // A second signal: the operator does not want to wait for the grace.
        close_sessions();
        return;
    }
    draining_ = true;
    log::info("draining")
        .kv("signal", signum)
        .kv("sessions", static_cast<std::uint64_t>(session_count()))
        .kv("grace_seconds", static_cast<std::int64_t>(spec_.drain_grace.count()));
    for (auto& b : bound_)
        b.listener->stop_accepting();
    poll_timer_ = std::make_unique<loop::Timer>(loop_);
    poll_timer_->start(
        0ms,
        [this] {
            if (session_count() == 0) loop_.stop();
        },
        kDrainPoll);
    grace_timer_ = std::make_unique<loop::Timer>(loop_);
    grace_timer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(spec_.drain_grace),
                        [this] { close_sessions(); });
}

void Daemon::close_sessions() {
    if (closing_) return;
    closing_ = true;
    log::info("closing-sessions").kv("sessions", static_cast<std::uint64_t>(session_count()));
    for (auto& b : bound_)
        b.listener->close_all(b.plan.shutdown_line, "shutdown");
    // The poll timer stops the loop once the lines are flushed and the
    // sessions gone; this one bounds the wait.
    grace_timer_->start(kCloseFlush, [this] {
        log::warn("shutdown-flush-timeout")
            .kv("sessions", static_cast<std::uint64_t>(session_count()));
        loop_.stop();
    });
}

std::size_t Daemon::session_count() const {
    std::size_t n = 0;
    for (const auto& b : bound_)
        n += b.listener->session_count();
    return n;
}

std::string Daemon::describe_listeners() const {
    std::string out;
    for (const auto& b : bound_) {
        for (const auto& addr : b.listener->bound()) {
            if (!out.empty()) out += ',';
            out += b.plan.name + "=" + addr.to_string();
        }
    }
    return out;
}

}  // namespace

int run(int argc, char** argv, const ServiceSpec& spec) {
    Daemon daemon(spec);
    return daemon.run(argc, argv);
}

}  // namespace postern::daemon
