#include "imapd/imap_changes.h"

#include <algorithm>
#include <cstring>

#include "common/log/log.h"
#include "imapd/imap_session.h"

namespace postern::imap {

namespace {
constexpr const char* kChangeFile = "index.changed";
}

void ChangeHub::add(const std::filesystem::path& home, net::SessionRegistry& registry,
                    net::SessionId id) {
    std::string key = home.string();
    auto it = watches_.find(key);
    if (it == watches_.end()) {
        auto watch = std::make_unique<Watch>();
        watch->hub = this;
        watch->key = key;
        watch->handle = loop_.make<uv_fs_event_t>();
        if (int rc = uv_fs_event_init(loop_.native(), watch->handle->get()); rc != 0) {
            log::warn("idle_watch_failed").kv("path", key).kv("error", uv_strerror(rc));
            return;
        }
        watch->handle->mark_initialised();
        watch->handle->set_owner(watch.get());
        // The directory, not the file: the file may not exist yet.
        if (int rc = uv_fs_event_start(watch->handle->get(), &ChangeHub::on_event, key.c_str(), 0);
            rc != 0) {
            log::warn("idle_watch_failed").kv("path", key).kv("error", uv_strerror(rc));
            return;
        }
        it = watches_.emplace(key, std::move(watch)).first;
    }
    it->second->members.push_back(Member{&registry, registry.liveness(), id});
}

void ChangeHub::remove(const std::filesystem::path& home, net::SessionId id) {
    auto it = watches_.find(home.string());
    if (it == watches_.end()) return;
    auto& members = it->second->members;
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [id](const Member& m) { return m.id == id; }),
                  members.end());
    if (members.empty()) watches_.erase(it);  // HandlePtr closes the watch
}

void ChangeHub::on_event(uv_fs_event_t* handle, const char* filename, int, int status) {
    auto* h = loop::Handle<uv_fs_event_t>::from(handle);
    auto* watch = static_cast<Watch*>(h->owner());
    if (watch == nullptr || status != 0) return;
    if (filename != nullptr && std::strcmp(filename, kChangeFile) != 0) return;
    watch->hub->notify(*watch);
}

void ChangeHub::notify(Watch& watch) {
    // Copy: a session's reaction may unregister members.
    std::vector<Member> members = watch.members;
    for (const Member& m : members) {
        if (m.alive.expired()) continue;
        auto* session = static_cast<ImapSession*>(m.registry->find_session(m.id));
        if (session != nullptr) session->on_mailbox_changed();
    }
}

}  // namespace postern::imap
