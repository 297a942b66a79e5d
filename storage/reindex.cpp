#include "storage/reindex.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "storage/change_feed.h"
#include "storage/mailbox_index.h"
#include "storage/maildir.h"
#include "storage/migrations.h"
#include "storage/sqlite.h"

namespace postern::store {
namespace {

struct OldState {
    std::map<std::string, MailboxInfo> mailboxes;
    std::uint64_t change_counter = 0;
    std::uint32_t last_uidvalidity = 0;
};

struct FoundMessage {
    std::filesystem::path path;
    MaildirName name;
    std::string file;  // "new/…" or "cur/…"
    std::uint32_t uid = 0;
};

struct Folder {
    std::string name;
    std::filesystem::path dir;
    std::vector<FoundMessage> messages;
};

// The old index, if it exists and answers; nullopt otherwise.
std::optional<OldState> read_old(const std::filesystem::path& index_db) {
    if (!std::filesystem::exists(index_db)) return std::nullopt;
    auto db = Db::open(index_db);
    if (!db) return std::nullopt;
    auto boxes = db->prepare(
        "SELECT id, name, uidvalidity, uidnext, highestmodseq, subscribed, special_use "
        "FROM mailboxes");
    auto state = db->prepare("SELECT change_counter, last_uidvalidity FROM user_state");
    if (!boxes || !state) return std::nullopt;
    OldState old;
    while (true) {
        auto row = boxes->step();
        if (!row) return std::nullopt;
        if (!*row) break;
        MailboxInfo m{boxes->column_int(0),
                      boxes->column_text(1),
                      static_cast<std::uint32_t>(boxes->column_int(2)),
                      static_cast<std::uint32_t>(boxes->column_int(3)),
                      static_cast<std::uint64_t>(boxes->column_int(4)),
                      boxes->column_int(5) != 0,
                      boxes->column_text(6)};
        old.mailboxes.emplace(m.name, m);
    }
    auto row = state->step();
    if (!row || !*row) return std::nullopt;
    old.change_counter = static_cast<std::uint64_t>(state->column_int(0));
    old.last_uidvalidity = static_cast<std::uint32_t>(state->column_int(1));
    return old;
}

StoreResult<std::vector<Folder>> find_folders(const UserPaths& paths) {
    std::vector<Folder> folders{{std::string(kInbox), paths.maildir, {}}};
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(paths.maildir, ec)) {
        if (!entry.is_directory()) continue;
        auto name = mailbox_name_from_dir(entry.path().filename().string());
        if (name && *name != kInbox) folders.push_back({*name, entry.path(), {}});
    }
    if (ec) return fail(errno_failure("scan " + paths.maildir.string(), ec.value()));
    for (const auto& special : kSpecialFolders) {
        auto same = [&](const Folder& f) { return f.name == special.name; };
        if (std::none_of(folders.begin(), folders.end(), same)) {
            auto dir = folder_path(paths.maildir, special.name);
            if (!dir) return fail(dir.error());
            folders.push_back({std::string(special.name), *dir, {}});
        }
    }
    for (const auto& f : folders) {
        if (auto st = create_maildir(f.dir, f.name != kInbox); !st) return fail(st.error());
        if (auto st = remove_stale_tmp(f.dir); !st) return fail(st.error());
    }
    return folders;
}

StoreStatus scan_messages(Folder& folder) {
    for (const char* sub : {"new", "cur"}) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(folder.dir / sub, ec)) {
            if (!entry.is_regular_file()) continue;
            std::string file_name = entry.path().filename().string();
            if (file_name.starts_with(".")) continue;
            folder.messages.push_back(FoundMessage{entry.path(), parse_maildir_name(file_name),
                                                   std::string(sub) + "/" + file_name, 0});
        }
        if (ec) return fail(errno_failure("scan " + (folder.dir / sub).string(), ec.value()));
    }
    // Files that carry a UID first, in UID order, so the earliest keeps a
    // duplicated UID; then the rest in name (≈ delivery time) order.
    std::sort(folder.messages.begin(), folder.messages.end(),
              [](const FoundMessage& a, const FoundMessage& b) {
                  if (a.name.uid.has_value() != b.name.uid.has_value())
                      return a.name.uid.has_value();
                  if (a.name.uid != b.name.uid) return a.name.uid < b.name.uid;
                  return a.file < b.file;
              });
    return {};
}

// Gives every message a UID; renames those that needed a new one.
// Returns the number of new UIDs; `uidnext` is raised past every UID.
StoreResult<std::uint64_t> assign_uids(Folder& folder, std::uint32_t& uidnext) {
    std::set<std::uint32_t> used;
    std::vector<FoundMessage*> pending;
    for (auto& m : folder.messages) {
        if (m.name.uid && used.insert(*m.name.uid).second) {
            m.uid = *m.name.uid;
            uidnext = std::max(uidnext, m.uid + 1);
        } else {
            pending.push_back(&m);
        }
    }
    for (FoundMessage* m : pending) {
        m->uid = uidnext++;
        struct stat st {};
        if (::stat(m->path.c_str(), &st) != 0)
            return fail(errno_failure("stat " + m->path.string(), errno));
        std::uint64_t size = m->name.size.value_or(static_cast<std::uint64_t>(st.st_size));
        bool in_cur = m->file.starts_with("cur/");
        std::string renamed = in_cur ? "cur/" + cur_name(m->name.base, size, m->uid, m->name.flags)
                                     : "new/" + delivery_name(m->name.base, size, m->uid);
        auto target = folder.dir / renamed;
        if (::rename(m->path.c_str(), target.c_str()) != 0) {
            return fail(errno_failure("rename " + m->path.string(), errno));
        }
        m->path = target;
        m->file = renamed;
        m->name.size = size;
    }
    if (!pending.empty()) {
        for (const char* sub : {"new", "cur"}) {
            if (auto st = fsync_dir(folder.dir / sub); !st) return fail(st.error());
        }
    }
    return static_cast<std::uint64_t>(pending.size());
}

}  // namespace

namespace {

struct Builder {
    Db& db;
    const std::optional<OldState>& old;
    const SummaryFunction& summary;
    std::uint32_t last_uidvalidity;
};

StoreStatus insert_folder(Builder& b, const Folder& folder, std::uint32_t uidnext) {
    const MailboxInfo* before = nullptr;
    if (b.old) {
        auto it = b.old->mailboxes.find(folder.name);
        if (it != b.old->mailboxes.end()) before = &it->second;
    }
    MailboxInfo box;
    box.name = folder.name;
    if (before) {
        box = *before;
        box.highestmodseq = before->highestmodseq + 1;  // MODSEQ never goes back
    } else {
        auto now = static_cast<std::uint32_t>(std::time(nullptr));
        b.last_uidvalidity = std::max(now, b.last_uidvalidity + 1);
        box.uidvalidity = b.last_uidvalidity;
        box.highestmodseq = 1;
        for (const auto& special : kSpecialFolders) {
            if (special.name == folder.name) box.special_use = special.attribute;
        }
    }
    box.uidnext = std::max(box.uidnext, uidnext);
    auto stmt = b.db.prepare(
        "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, subscribed, "
        "special_use) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, box.name)
        .bind(2, std::int64_t{box.uidvalidity})
        .bind(3, std::int64_t{box.uidnext});
    stmt->bind(4, static_cast<std::int64_t>(box.highestmodseq));
    stmt->bind(5, std::int64_t{box.subscribed ? 1 : 0}).bind(6, box.special_use);
    if (auto st = stmt->run(); !st) return st;
    std::int64_t id = b.db.last_insert_id();
    auto msg = b.db.prepare(
        "INSERT INTO messages (mailbox_id, uid, file, size, internal_date, flags, modseq, summary) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!msg) return fail(msg.error());
    for (const auto& m : folder.messages) {
        struct stat st {};
        if (::stat(m.path.c_str(), &st) != 0)
            return fail(errno_failure("stat " + m.path.string(), errno));
        std::string text = b.summary ? b.summary(m.path) : std::string();
        msg->reset();
        msg->bind(1, id).bind(2, std::int64_t{m.uid}).bind(3, m.file);
        msg->bind(4, static_cast<std::int64_t>(
                         m.name.size.value_or(static_cast<std::uint64_t>(st.st_size))));
        msg->bind(5, static_cast<std::int64_t>(st.st_mtim.tv_sec))
            .bind(6, std::int64_t{m.name.flags});
        msg->bind(7, static_cast<std::int64_t>(box.highestmodseq)).bind_blob(8, text);
        if (auto r = msg->run(); !r) return r;
    }
    return {};
}

// Writes the new index beside the old one, in rollback-journal mode so that
// the finished file is self-contained and can be renamed into place.
StoreStatus build_index(const std::filesystem::path& path, std::vector<Folder>& folders,
                        const std::vector<std::uint32_t>& uidnexts,
                        const std::optional<OldState>& old, const SummaryFunction& summary) {
    auto db = Db::open_without_wal(path);
    if (!db) return fail(db.error());
    if (auto v = migrate(*db, index_migrations()); !v) return fail(v.error());
    auto tx = Transaction::begin(*db);
    if (!tx) return fail(tx.error());
    Builder b{*db, old, summary, old ? old->last_uidvalidity : 0};
    for (std::size_t i = 0; i < folders.size(); ++i) {
        if (auto st = insert_folder(b, folders[i], uidnexts[i]); !st) return st;
    }
    auto state = db->prepare(
        "UPDATE user_state SET change_counter = ?1, last_uidvalidity = ?2 WHERE id = 1");
    if (!state) return fail(state.error());
    state->bind(1, static_cast<std::int64_t>((old ? old->change_counter : 0) + 1));
    state->bind(2, std::int64_t{b.last_uidvalidity});
    if (auto st = state->run(); !st) return st;
    return tx->commit();
}

StoreStatus replace_index(const UserPaths& paths, const std::filesystem::path& built) {
    // A -wal file left from the old index would be replayed onto the new one.
    for (const char* suffix : {"-wal", "-shm"}) {
        auto p = paths.index_db.string() + suffix;
        if (::unlink(p.c_str()) != 0 && errno != ENOENT)
            return fail(errno_failure("unlink " + p, errno));
    }
    if (::rename(built.c_str(), paths.index_db.c_str()) != 0) {
        return fail(errno_failure("rename " + built.string(), errno));
    }
    return fsync_dir(paths.home);
}

}  // namespace

StoreResult<ReindexStats> reindex(const UserPaths& paths, const SummaryFunction& summary) {
    std::error_code ec;
    std::filesystem::create_directories(paths.home, ec);
    if (auto st = create_maildir(paths.maildir, false); !st) return fail(st.error());
    std::optional<OldState> old = read_old(paths.index_db);
    auto folders = find_folders(paths);
    if (!folders) return fail(folders.error());
    ReindexStats stats;
    stats.kept_uidvalidity = old.has_value();
    std::vector<std::uint32_t> uidnexts;
    for (auto& folder : *folders) {
        if (auto st = scan_messages(folder); !st) return fail(st.error());
        std::uint32_t uidnext = 1;
        if (old) {
            auto it = old->mailboxes.find(folder.name);
            if (it != old->mailboxes.end()) uidnext = it->second.uidnext;
        }
        auto fresh = assign_uids(folder, uidnext);
        if (!fresh) return fail(fresh.error());
        uidnexts.push_back(uidnext);
        stats.mailboxes += 1;
        stats.messages += folder.messages.size();
        stats.new_uids += *fresh;
    }
    auto built = paths.home / "index.db.rebuild";
    ::unlink(built.c_str());
    if (auto st = build_index(built, *folders, uidnexts, old, summary); !st) {
        ::unlink(built.c_str());
        return fail(st.error());
    }
    if (auto st = replace_index(paths, built); !st) return fail(st.error());
    auto index = Db::open(paths.index_db);
    if (index) {
        if (auto counter = read_change_counter(*index); counter)
            notify_change(paths.change_file, *counter);
    }
    return stats;
}

}  // namespace postern::store
