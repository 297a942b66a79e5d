#include "common/loop/signals.h"

#include <csignal>
#include <utility>

#include "common/base/assert.h"

namespace postern::loop {

Signals::Signals(Loop& loop, SignalCallbacks callbacks) : callbacks_(std::move(callbacks)) {
    if (callbacks_.on_drain) {
        watch(loop, SIGTERM);
        watch(loop, SIGINT);
    }
    if (callbacks_.on_reload) watch(loop, SIGHUP);
    if (callbacks_.on_child) watch(loop, SIGCHLD);
}

void Signals::watch(Loop& loop, int signum) {
    auto handle = loop.make<uv_signal_t>();
    POSTERN_ASSERT(uv_signal_init(loop.native(), handle->get()) == 0);
    handle->mark_initialised();
    handle->set_owner(this);
    POSTERN_ASSERT(uv_signal_start(handle->get(), &Signals::on_signal, signum) == 0);
    // Waiting for a signal alone must not keep the loop running.
    uv_unref(handle->raw());
    handles_.push_back(std::move(handle));
}

void Signals::on_signal(uv_signal_t* handle, int signum) {
    auto* self = static_cast<Signals*>(Handle<uv_signal_t>::from(handle)->owner());
    if (self != nullptr) self->dispatch(signum);
}

void Signals::dispatch(int signum) {
    switch (signum) {
        case SIGTERM:
        case SIGINT:
            callbacks_.on_drain(signum);
            break;
        case SIGHUP:
            callbacks_.on_reload();
            break;
        case SIGCHLD:
            callbacks_.on_child();
            break;
        default:
            break;
    }
}

}  // namespace postern::loop
