#include <doctest/doctest.h>

#include <csignal>
#include <memory>
#include <thread>
#include <unordered_map>

#include "common/loop/handle.h"
#include "common/loop/loop.h"
#include "common/loop/signals.h"
#include "common/loop/timer.h"
#include "common/loop/work.h"

namespace postern::loop {
namespace {

using namespace std::chrono_literals;

TEST_CASE("loop: post() from another thread runs on the loop thread") {
    Loop loop;
    Timer guard(loop);
    guard.start(5s, [&] { loop.stop(); });
    std::thread::id ran_on;
    int runs = 0;
    std::thread t([&] {
        loop.post([&] {
            ran_on = std::this_thread::get_id();
            ++runs;
            loop.stop();
        });
    });
    loop.run();
    t.join();
    CHECK_MESSAGE(runs == 1, "got " << runs << " runs, want 1");
    CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("timer: one-shot, repeating, again() and stop()") {
    Loop loop;
    Timer once(loop);
    Timer repeat(loop);
    Timer guard(loop);
    int once_runs = 0;
    int repeat_runs = 0;
    once.start(10ms, [&] { ++once_runs; });
    repeat.start(
        5ms,
        [&] {
            if (++repeat_runs == 3) {
                repeat.stop();
                loop.stop();
            }
        },
        5ms);
    guard.start(5s, [&] { loop.stop(); });
    loop.run();
    CHECK_MESSAGE(repeat_runs == 3, "got " << repeat_runs << ", want 3");
    CHECK(!repeat.active());
    // again() pushes the deadline out.
    Timer idle(loop);
    int idle_runs = 0;
    idle.start(50ms, [&] {
        ++idle_runs;
        loop.stop();
    });
    auto started = std::chrono::steady_clock::now();
    Timer kick(loop);
    int kicks = 0;
    kick.start(
        20ms,
        [&] {
            if (++kicks <= 3) idle.again();
        },
        20ms);
    loop.run();
    auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(idle_runs == 1);
    CHECK_MESSAGE(elapsed >= 100ms, "again() did not postpone the idle timer");
    CHECK(once_runs == 1);
}

TEST_CASE("timer: destroyed before it fires never calls back") {
    Loop loop;
    bool fired = false;
    {
        auto t = std::make_unique<Timer>(loop);
        t->start(1ms, [&] { fired = true; });
    }
    Timer guard(loop);
    guard.start(30ms, [&] { loop.stop(); });
    loop.run();
    CHECK_FALSE(fired);
}

TEST_CASE("handle: close() is idempotent; the callback runs once, from libuv") {
    Loop loop;
    int closed = 0;
    auto h = loop.make<uv_idle_t>();
    REQUIRE(uv_idle_init(loop.native(), h->get()) == 0);
    h->mark_initialised();
    Handle<uv_idle_t>* raw = h.release();
    raw->close([&] { ++closed; });
    raw->close([&] { closed += 100; });
    CHECK_MESSAGE(closed == 0, "memory must not be released before the close callback");
    loop.run();
    CHECK_MESSAGE(closed == 1, "got " << closed << " close callbacks, want 1");
}

TEST_CASE("signals: SIGHUP reloads, SIGTERM drains") {
    Loop loop;
    int reloads = 0;
    int drains = 0;
    Signals signals(loop, SignalCallbacks{
                              .on_drain =
                                  [&](int) {
                                      ++drains;
                                      loop.stop();
                                  },
                              .on_reload = [&] { ++reloads; },
                              .on_child = {},
                          });
    Timer guard(loop);
    guard.start(5s, [&] { loop.stop(); });
    Timer fire(loop);
    fire.start(5ms, [&] {
        std::raise(SIGHUP);
        std::raise(SIGTERM);
    });
    loop.run();
    CHECK_MESSAGE(reloads == 1, "got " << reloads << " reloads, want 1");
    CHECK_MESSAGE(drains == 1, "got " << drains << " drains, want 1");
}

struct FakeSession {
    int value = 0;
};

struct FakeRegistry final : SessionRegistry<FakeSession> {
    std::unordered_map<SessionId, FakeSession> sessions;
    FakeSession* find_session(SessionId id) override {
        auto it = sessions.find(id);
        return it == sessions.end() ? nullptr : &it->second;
    }
};

TEST_CASE("work: completion finds the session by id, or drops the result") {
    Loop loop;
    auto registry = std::make_unique<FakeRegistry>();
    registry->sessions[7] = {};
    registry->sessions[8] = {};
    auto dropped_before = dropped_work_results();
    int resumed = 0;
    auto resume = [&](FakeSession& s, int v) {
        s.value = v;
        ++resumed;
    };
    submit_work<FakeSession, int>(
        loop, *registry, 7, [] { return 42; }, resume);
    submit_work<FakeSession, int>(
        loop, *registry, 8, [] { return 43; }, resume);
    registry->sessions.erase(8);  // the client left before completion
    submit_work<FakeSession, int>(
        loop, *registry, 99, [] { return 44; }, resume);
    loop.run();  // returns once all work has completed
    CHECK(registry->sessions[7].value == 42);
    CHECK_MESSAGE(resumed == 1, "got " << resumed << " resumes, want 1");
    CHECK(dropped_work_results() == dropped_before + 2);

    // The registry itself goes away (shutdown) while work is in flight.
    submit_work<FakeSession, int>(
        loop, *registry, 7,
        [] {
            std::this_thread::sleep_for(20ms);
            return 1;
        },
        resume);
    registry.reset();
    loop.run();
    CHECK(resumed == 1);
    CHECK(dropped_work_results() == dropped_before + 3);
}

}  // namespace
}  // namespace postern::loop
