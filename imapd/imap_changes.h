// ChangeHub: wakes the sessions of a user when another process (mda, pop3d,
// another imapd session) commits a change to that user's index.
//
// One uv_fs_event watch per user home directory that has sessions, not one
// per session (DESIGN.md "Store"); storage's notify_change() rewrites
// <home>/index.changed after every commit and the hub reacts to events for
// that name only. Sessions are held by (registry liveness, id), never by
// pointer, so a session that went away is simply skipped. The watch is
// closed when its last session unregisters.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/loop/handle.h"
#include "common/loop/loop.h"
#include "common/net/session.h"

namespace postern::imap {

class ChangeHub {
  public:
    explicit ChangeHub(loop::Loop& loop) : loop_(loop) {}
    ChangeHub(const ChangeHub&) = delete;
    ChangeHub& operator=(const ChangeHub&) = delete;

    void add(const std::filesystem::path& home, net::SessionRegistry& registry, net::SessionId id);
    void remove(const std::filesystem::path& home, net::SessionId id);
    std::size_t watch_count() const { return watches_.size(); }

  private:
    struct Member {
        net::SessionRegistry* registry = nullptr;
        std::weak_ptr<const int> alive;
        net::SessionId id = 0;
    };
    struct Watch {
        ChangeHub* hub = nullptr;
        std::string key;
        loop::HandlePtr<uv_fs_event_t> handle;
        std::vector<Member> members;
    };
    static void on_event(uv_fs_event_t* handle, const char* filename, int events, int status);
    void notify(Watch& watch);

    loop::Loop& loop_;
    std::unordered_map<std::string, std::unique_ptr<Watch>> watches_;
};

}  // namespace postern::imap
