#include "tools/mailctl/supervisor.h"

#include <uv.h>

#include <csignal>
#include <memory>

#include "common/log/log.h"

namespace postern::mailctl {
namespace {

using Clock = std::chrono::steady_clock;

struct Child {
    ChildSpec spec;
    uv_process_t process{};
    uv_timer_t restart_timer{};
    bool running = false;
    Clock::time_point started{};
    std::chrono::milliseconds backoff{};
};

struct Supervisor {
    uv_loop_t* loop = nullptr;
    SupervisorLimits limits;
    std::vector<std::unique_ptr<Child>> children;
    uv_signal_t sigterm{}, sigint{};
    uv_timer_t stop_timer{};
    bool stopping = false;
    int exit_code = 0;
};

void start_child(Supervisor& sup, Child& child);

void on_child_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
    auto* child = static_cast<Child*>(process->data);
    auto* sup = static_cast<Supervisor*>(process->loop->data);
    child->running = false;
    uv_close(reinterpret_cast<uv_handle_t*>(process), nullptr);
    const auto ran =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - child->started);
    if (sup->stopping) {
        log::info("child-stopped").kv("name", child->spec.name).kv("status", exit_status);
        return;
    }
    if (ran >= sup->limits.stable_run) child->backoff = sup->limits.first_backoff;
    log::error("child-died")
        .kv("name", child->spec.name)
        .kv("status", exit_status)
        .kv("signal", term_signal)
        .kv("restart_in_ms", static_cast<std::int64_t>(child->backoff.count()));
    uv_timer_start(
        &child->restart_timer,
        [](uv_timer_t* timer) {
            auto* c = static_cast<Child*>(timer->data);
            auto* s = static_cast<Supervisor*>(timer->loop->data);
            if (!s->stopping) start_child(*s, *c);
        },
        static_cast<std::uint64_t>(child->backoff.count()), 0);
    child->backoff = std::min(child->backoff * 2, sup->limits.max_backoff);
}

void start_child(Supervisor& sup, Child& child) {
    std::vector<char*> args;
    for (auto& a : child.spec.argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    for (int fd = 1; fd <= 2; ++fd) {
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
    }
    uv_process_options_t options{};
    options.file = args[0];
    options.args = args.data();
    options.exit_cb = on_child_exit;
    options.stdio = stdio;
    options.stdio_count = 3;
    child.process.data = &child;
    const int rc = uv_spawn(sup.loop, &child.process, &options);
    if (rc != 0) {
        // uv_spawn leaves the handle initialized; it must be closed.
        uv_close(reinterpret_cast<uv_handle_t*>(&child.process), nullptr);
        log::error("child-spawn-failed").kv("name", child.spec.name).kv("error", uv_strerror(rc));
        sup.exit_code = 1;
        return;
    }
    child.running = true;
    child.started = Clock::now();
    log::info("child-started").kv("name", child.spec.name).kv("pid", child.process.pid);
}

bool any_running(const Supervisor& sup) {
    for (const auto& c : sup.children)
        if (c->running) return true;
    return false;
}

void close_all(Supervisor& sup) {
    for (auto& c : sup.children)
        uv_close(reinterpret_cast<uv_handle_t*>(&c->restart_timer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sup.sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sup.sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sup.stop_timer), nullptr);
}

void begin_stop(Supervisor& sup) {
    if (sup.stopping) return;
    sup.stopping = true;
    log::info("stopping").kv("children", static_cast<std::uint64_t>(sup.children.size()));
    for (auto& c : sup.children) {
        uv_timer_stop(&c->restart_timer);
        if (c->running) uv_process_kill(&c->process, SIGTERM);
    }
    const auto deadline =
        uv_now(sup.loop) + static_cast<std::uint64_t>(sup.limits.stop_grace.count());
    sup.stop_timer.data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(deadline));
    // Checks every 50 ms until every child is gone or the grace period ends.
    uv_timer_start(
        &sup.stop_timer,
        [](uv_timer_t* timer) {
            auto* s = static_cast<Supervisor*>(timer->loop->data);
            const auto until =
                static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(timer->data));
            if (any_running(*s) && uv_now(timer->loop) >= until) {
                for (auto& c : s->children) {
                    if (!c->running) continue;
                    log::warn("child-killed").kv("name", c->spec.name);
                    uv_process_kill(&c->process, SIGKILL);
                }
            }
            if (!any_running(*s)) close_all(*s);
        },
        50, 50);
}

}  // namespace

int supervise(const std::vector<ChildSpec>& specs, const SupervisorLimits& limits) {
    Supervisor sup;
    sup.loop = uv_default_loop();
    sup.loop->data = &sup;
    sup.limits = limits;
    uv_signal_init(sup.loop, &sup.sigterm);
    uv_signal_init(sup.loop, &sup.sigint);
    uv_timer_init(sup.loop, &sup.stop_timer);
    const auto on_signal = [](uv_signal_t* handle, int) {
        begin_stop(*static_cast<Supervisor*>(handle->loop->data));
    };
    uv_signal_start(&sup.sigterm, on_signal, SIGTERM);
    uv_signal_start(&sup.sigint, on_signal, SIGINT);
    for (const auto& spec : specs) {
        auto child = std::make_unique<Child>();
        child->spec = spec;
        child->backoff = limits.first_backoff;
        uv_timer_init(sup.loop, &child->restart_timer);
        child->restart_timer.data = child.get();
        sup.children.push_back(std::move(child));
    }
    for (auto& c : sup.children)
        start_child(sup, *c);
    uv_run(sup.loop, UV_RUN_DEFAULT);
    uv_loop_close(sup.loop);
    return sup.exit_code;
}

}  // namespace postern::mailctl
