// Loop: owns the uv_loop_t every daemon runs on.
//
// Everything in common/loop and common/net runs on the loop thread, except
// post(), which any thread may call to run a function on the loop thread.
// A Loop must outlive every handle made from it; the destructor runs the loop
// until all closes have completed before closing it.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include <uv.h>

#include "common/loop/handle.h"

namespace postern::loop {

class Loop {
  public:
    Loop();
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    uv_loop_t* native() { return &loop_; }

    // Runs until stop() or until nothing is left to do.
    void run();
    // Runs one non-blocking iteration (tests).
    void run_nowait();
    // Makes run() return after the current iteration.
    void stop();

    // Thread-safe: fn runs on the loop thread during a later iteration.
    void post(std::function<void()> fn);

    // The only way to create a handle. The caller still calls uv_*_init on
    // get() and then mark_initialised().
    template <typename T>
    HandlePtr<T> make() {
        return HandlePtr<T>(new Handle<T>(HandleKey{}));
    }

  private:
    static void on_async(uv_async_t* async);
    void drain_posted();

    uv_loop_t loop_{};
    HandlePtr<uv_async_t> async_;
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;
};

}  // namespace postern::loop
