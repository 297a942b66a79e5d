// Signals: turns process signals into callbacks on the loop thread.
//   SIGTERM, SIGINT -> on_drain   (stop accepting, let sessions finish)
//   SIGHUP          -> on_reload  (re-read config and TLS keys)
//   SIGCHLD         -> on_child   (only when set: the supervisor reaps)
// An unset callback leaves that signal's default disposition alone.
#pragma once

#include <functional>
#include <vector>

#include "common/loop/loop.h"

namespace postern::loop {

struct SignalCallbacks {
    std::function<void(int signum)> on_drain;
    std::function<void()> on_reload;
    std::function<void()> on_child;
};

class Signals {
  public:
    Signals(Loop& loop, SignalCallbacks callbacks);
    Signals(const Signals&) = delete;
    Signals& operator=(const Signals&) = delete;

  private:
    void watch(Loop& loop, int signum);
    static void on_signal(uv_signal_t* handle, int signum);
    void dispatch(int signum);

    SignalCallbacks callbacks_;
    std::vector<HandlePtr<uv_signal_t>> handles_;
};

}  // namespace postern::loop
