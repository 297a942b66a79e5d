#include "common/loop/loop.h"

#include <utility>

#include "common/base/assert.h"

namespace postern::loop {

Loop::Loop() {
    POSTERN_ASSERT(uv_loop_init(&loop_) == 0);
    async_ = make<uv_async_t>();
    POSTERN_ASSERT(uv_async_init(&loop_, async_->get(), &Loop::on_async) == 0);
    async_->mark_initialised();
    async_->set_owner(this);
    // The async handle must not keep run() alive on its own.
    uv_unref(async_->raw());
}

Loop::~Loop() {
    async_.reset();
    // Let every pending close callback run so no handle memory leaks.
    uv_run(&loop_, UV_RUN_DEFAULT);
    POSTERN_ASSERT(uv_loop_close(&loop_) == 0);
}

void Loop::run() {
    uv_run(&loop_, UV_RUN_DEFAULT);
}

void Loop::run_nowait() {
    uv_run(&loop_, UV_RUN_NOWAIT);
}

void Loop::stop() {
    uv_stop(&loop_);
}

void Loop::post(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        posted_.push_back(std::move(fn));
    }
    uv_async_send(async_->get());
}

void Loop::on_async(uv_async_t* async) {
    auto* self = static_cast<Loop*>(Handle<uv_async_t>::from(async)->owner());
    if (self != nullptr) self->drain_posted();
}

void Loop::drain_posted() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        batch.swap(posted_);
    }
    for (auto& fn : batch)
        fn();
}

}  // namespace postern::loop
