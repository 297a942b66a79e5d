#include "common/loop/dir_watch.h"

#include <utility>

#include "common/base/assert.h"

namespace postern::loop {

DirWatch::DirWatch(Loop& loop) : handle_(loop.make<uv_fs_event_t>()) {
    POSTERN_ASSERT(uv_fs_event_init(loop.native(), handle_->get()) == 0);
    handle_->mark_initialised();
    handle_->set_owner(this);
}

Status DirWatch::start(const std::filesystem::path& dir, std::function<void(std::string_view)> fn) {
    fn_ = std::move(fn);
    const int rc = uv_fs_event_start(handle_->get(), &DirWatch::on_event, dir.c_str(), 0);
    if (rc != 0) return fail("cannot watch " + dir.string() + ": " + uv_strerror(rc));
    return {};
}

void DirWatch::on_event(uv_fs_event_t* h, const char* name, int, int status) {
    auto* self = static_cast<DirWatch*>(Handle<uv_fs_event_t>::from(h)->owner());
    if (self == nullptr || !self->fn_) return;
    auto fn = self->fn_;
    fn(status == 0 && name != nullptr ? std::string_view(name) : std::string_view());
}

}  // namespace postern::loop
