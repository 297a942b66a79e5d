#include "common/loop/timer.h"

#include <utility>

#include "common/base/assert.h"

namespace postern::loop {

Timer::Timer(Loop& loop) : handle_(loop.make<uv_timer_t>()) {
    POSTERN_ASSERT(uv_timer_init(loop.native(), handle_->get()) == 0);
    handle_->mark_initialised();
    handle_->set_owner(this);
}

void Timer::start(std::chrono::milliseconds after, std::function<void()> fn,
                  std::chrono::milliseconds repeat) {
    after_ = after;
    fn_ = std::move(fn);
    uv_timer_start(handle_->get(), &Timer::on_timer, static_cast<std::uint64_t>(after.count()),
                   static_cast<std::uint64_t>(repeat.count()));
}

void Timer::again() {
    if (!fn_) return;
    uv_timer_start(handle_->get(), &Timer::on_timer, static_cast<std::uint64_t>(after_.count()),
                   uv_timer_get_repeat(handle_->get()));
}

void Timer::stop() {
    uv_timer_stop(handle_->get());
}

bool Timer::active() {
    return uv_is_active(handle_->raw()) != 0;
}

void Timer::on_timer(uv_timer_t* t) {
    auto* self = static_cast<Timer*>(Handle<uv_timer_t>::from(t)->owner());
    if (self == nullptr || !self->fn_) return;
    // Copy: the callback may restart or destroy this timer.
    auto fn = self->fn_;
    fn();
}

}  // namespace postern::loop
