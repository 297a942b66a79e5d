// Blocking work on the libuv thread pool: fsync, SQLite, DNS, password
// hashing. The session's own thread (the loop) never blocks.
//
// Contract (STYLE.md §9):
// - `blocking` runs on a pool thread and must not touch the loop, any
//   session or any libuv object; it computes a value and returns it.
// - completion runs on the loop thread and finds the session again BY ID in
//   its registry. If the session has gone (client disconnected, timeout), the
//   result is dropped and `resume` never runs. Never capture a Session*,
//   a reference to one, or `this` of a session in either function.
// - The registry may be destroyed while work is in flight (shutdown): the
//   completion then sees its liveness token expired and drops the result.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "common/loop/loop.h"

namespace postern::loop {

using SessionId = std::uint64_t;

// Whatever owns sessions (net::Listener) implements this. Completions that
// outlive the registry (shutdown) see its liveness token expired and are
// dropped like those of a vanished session.
template <typename S>
class SessionRegistry {
  public:
    virtual S* find_session(SessionId id) = 0;
    std::weak_ptr<const int> liveness() const { return token_; }

  protected:
    ~SessionRegistry() = default;

  private:
    std::shared_ptr<const int> token_ = std::make_shared<const int>(0);
};

// Runs blocking() on the pool, then after() on the loop thread. The untyped
// core of submit_work().
void queue_work(Loop& loop, std::function<void()> blocking, std::function<void()> after);

// Counts completions whose session was gone (for logs and tests).
std::uint64_t dropped_work_results();
void note_dropped_work_result();

template <typename S, typename R>
void submit_work(Loop& loop, SessionRegistry<S>& registry, SessionId id,
                 std::function<R()> blocking, std::function<void(S&, R)> resume) {
    auto result = std::make_shared<R>();
    queue_work(
        loop, [result, blocking = std::move(blocking)] { *result = blocking(); },
        [result, &registry, alive = registry.liveness(), id, resume = std::move(resume)] {
            S* session = alive.expired() ? nullptr : registry.find_session(id);
            if (session == nullptr) {
                note_dropped_work_result();
                return;
            }
            resume(*session, std::move(*result));
        });
}

}  // namespace postern::loop
