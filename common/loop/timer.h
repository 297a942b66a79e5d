// Timer: a one-shot or repeating libuv timer (idle timeouts, whole-session
// deadlines, close lingering). The callback runs on the loop thread and never
// after the Timer has been destroyed.
#pragma once

#include <chrono>
#include <functional>

#include "common/loop/loop.h"

namespace postern::loop {

class Timer {
  public:
    explicit Timer(Loop& loop);
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // (Re)starts the timer: fn runs after `after`, then every `repeat`
    // when repeat is non-zero.
    void start(std::chrono::milliseconds after, std::function<void()> fn,
               std::chrono::milliseconds repeat = std::chrono::milliseconds{0});
    // Restarts the countdown with the same callback (e.g. on client input).
    void again();
    void stop();
    bool active();

  private:
    static void on_timer(uv_timer_t* t);

    HandlePtr<uv_timer_t> handle_;
    std::chrono::milliseconds after_{0};
    std::function<void()> fn_;
};

}  // namespace postern::loop
