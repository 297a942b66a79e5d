#include "common/loop/work.h"

#include <atomic>

#include "common/base/assert.h"
#include "common/log/log.h"

namespace postern::loop {
namespace {

std::atomic<std::uint64_t> g_dropped{0};

// One request; freed in the after-work callback, which libuv always calls
// (with UV_ECANCELED if the work never ran).
struct WorkRequest {
    uv_work_t req{};
    std::function<void()> blocking;
    std::function<void()> after;
};

void run_blocking(uv_work_t* req) {
    static_cast<WorkRequest*>(req->data)->blocking();
}

void run_after(uv_work_t* req, int status) {
    std::unique_ptr<WorkRequest> work(static_cast<WorkRequest*>(req->data));
    if (status == UV_ECANCELED) return;
    work->after();
}

}  // namespace

void queue_work(Loop& loop, std::function<void()> blocking, std::function<void()> after) {
    auto* work = new WorkRequest{{}, std::move(blocking), std::move(after)};
    work->req.data = work;
    int rc = uv_queue_work(loop.native(), &work->req, &run_blocking, &run_after);
    // uv_queue_work fails only for a null callback: our bug, not the client's.
    POSTERN_ASSERT(rc == 0);
}

std::uint64_t dropped_work_results() {
    return g_dropped.load();
}

void note_dropped_work_result() {
    g_dropped.fetch_add(1);
    log::debug("work-result-dropped").kv("reason", "session-gone");
}

}  // namespace postern::loop
