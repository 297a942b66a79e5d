// DirWatch: tells the loop when entries of one directory change (inotify
// through uv_fs_event). The callback gets the entry's name, or "" when the
// kernel could not say which (overflow): the owner should then look at
// the whole directory again. Runs on the loop thread, never after the
// DirWatch is destroyed.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "common/base/result.h"
#include "common/loop/loop.h"

namespace postern::loop {

class DirWatch {
  public:
    explicit DirWatch(Loop& loop);
    DirWatch(const DirWatch&) = delete;
    DirWatch& operator=(const DirWatch&) = delete;

    Status start(const std::filesystem::path& dir, std::function<void(std::string_view)> fn);

  private:
    static void on_event(uv_fs_event_t* h, const char* name, int events, int status);
    HandlePtr<uv_fs_event_t> handle_;
    std::function<void(std::string_view)> fn_;
};

}  // namespace postern::loop
