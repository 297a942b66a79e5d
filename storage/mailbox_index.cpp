#include "storage/mailbox_index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

#include "common/log/log.h"
#include "storage/change_feed.h"
#include "storage/migrations.h"

namespace postern::store {
namespace {

constexpr const char* kMailboxColumns =
    "SELECT id, name, uidvalidity, uidnext, highestmodseq, subscribed, special_use "
    "FROM mailboxes";

MailboxInfo read_mailbox(const Statement& s) {
    MailboxInfo m;
    m.id = s.column_int(0);
    m.name = s.column_text(1);
    m.uidvalidity = static_cast<std::uint32_t>(s.column_int(2));
    m.uidnext = static_cast<std::uint32_t>(s.column_int(3));
    m.highestmodseq = static_cast<std::uint64_t>(s.column_int(4));
    m.subscribed = s.column_int(5) != 0;
    m.special_use = s.column_text(6);
    return m;
}

MessageInfo read_message(const Statement& s) {
    MessageInfo m;
    m.uid = static_cast<std::uint32_t>(s.column_int(0));
    m.flags = static_cast<Flags>(s.column_int(1));
    m.size = static_cast<std::uint64_t>(s.column_int(2));
    m.modseq = static_cast<std::uint64_t>(s.column_int(3));
    m.internal_date = s.column_int(4);
    m.file = s.column_text(5);
    return m;
}

StoreStatus rename_path(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return fail(errno_failure("rename " + from.string() + " -> " + to.string(), errno));
    }
    return {};
}

}  // namespace

StoreResult<MailboxIndex> MailboxIndex::open(const UserPaths& paths) {
    std::error_code ec;
    std::filesystem::create_directories(paths.home, ec);
    if (ec) return fail(errno_failure("mkdir " + paths.home.string(), ec.value()));
    if (auto st = create_maildir(paths.maildir, false); !st) return fail(st.error());
    auto db = Db::open(paths.index_db);
    if (!db) return fail(db.error());
    auto before = migrate(*db, index_migrations());
    if (!before) return fail(before.error());
    MailboxIndex index(paths, std::move(*db));
    if (*before == 0) {
        if (auto st = index.provision(); !st) return fail(st.error());
    }
    return index;
}

StoreStatus MailboxIndex::provision() {
    auto inbox = find_mailbox(kInbox);
    if (!inbox && inbox.error().code == StoreError::NotFound) {
        if (auto r = create_mailbox(kInbox); !r) return fail(r.error());
    }
    for (const auto& special : kSpecialFolders) {
        auto r = create_mailbox(special.name, special.attribute);
        if (!r && r.error().code != StoreError::Exists) return fail(r.error());
    }
    return {};
}

StoreStatus MailboxIndex::commit(Transaction& tx) {
    auto counter = bump_change_counter(db_);
    if (!counter) return fail(counter.error());
    if (auto st = tx.commit(); !st) return st;
    notify_change(paths_.change_file, *counter);
    return {};
}

StoreResult<std::uint32_t> MailboxIndex::next_uidvalidity() {
    // RFC 3501 §2.3.1.1: a recreated name must get a greater UIDVALIDITY, so
    // use the clock but never go back to a value handed out before.
    auto stmt = db_.prepare(
        "UPDATE user_state SET last_uidvalidity = max(last_uidvalidity + 1, ?1) WHERE id = 1 "
        "RETURNING last_uidvalidity");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, static_cast<std::int64_t>(std::time(nullptr)) & 0xffffffff);
    auto row = stmt->step();
    if (!row) return fail(row.error());
    return static_cast<std::uint32_t>(stmt->column_int(0));
}

StoreResult<std::uint64_t> MailboxIndex::bump_modseq(std::int64_t mailbox_id) {
    auto stmt = db_.prepare(
        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 "
        "RETURNING highestmodseq");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, mailbox_id);
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "mailbox vanished");
    return static_cast<std::uint64_t>(stmt->column_int(0));
}

StoreResult<std::vector<MailboxInfo>> MailboxIndex::list_mailboxes() {
    auto stmt = db_.prepare(std::string(kMailboxColumns) + " ORDER BY name");
    if (!stmt) return fail(stmt.error());
    std::vector<MailboxInfo> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back(read_mailbox(*stmt));
    }
    return out;
}

StoreResult<MailboxInfo> MailboxIndex::find_mailbox(std::string_view name) {
    auto canonical = validate_mailbox_name(name);
    if (!canonical) return fail(canonical.error());
    auto stmt = db_.prepare(std::string(kMailboxColumns) + " WHERE name = ?1");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *canonical);
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "no mailbox " + *canonical);
    return read_mailbox(*stmt);
}

StoreResult<MailboxInfo> MailboxIndex::create_mailbox(std::string_view name,
                                                      std::string_view special_use) {
    auto canonical = validate_mailbox_name(name);
    if (!canonical) return fail(canonical.error());
    auto folder = folder_path(paths_.maildir, *canonical);
    if (!folder) return fail(folder.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto uidvalidity = next_uidvalidity();
    if (!uidvalidity) return fail(uidvalidity.error());
    auto stmt = db_.prepare(
        "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, special_use) "
        "VALUES (?1, ?2, 1, 1, ?3)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *canonical).bind(2, std::int64_t{*uidvalidity}).bind(3, special_use);
    if (auto st = stmt->run(); !st) {
        if (st.error().code == StoreError::Exists) {
            return store_fail(StoreError::Exists, "mailbox exists: " + *canonical);
        }
        return fail(st.error());
    }
    // The directory before COMMIT: a crash leaves an empty folder the index
    // does not list (reindex adopts it), never a row without its directory.
    if (auto st = create_maildir(*folder, *canonical != kInbox); !st) return fail(st.error());
    if (auto st = commit(*tx); !st) return fail(st.error());
    return find_mailbox(*canonical);
}

StoreStatus MailboxIndex::delete_mailbox(std::string_view name) {
    auto box = find_mailbox(name);
    if (!box) return fail(box.error());
    if (box->name == kInbox) return store_fail(StoreError::Invalid, "cannot delete INBOX");
    auto folder = folder_path(paths_.maildir, box->name);
    if (!folder) return fail(folder.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto children = db_.prepare("SELECT 1 FROM mailboxes WHERE substr(name, 1, ?2) = ?1");
    if (!children) return fail(children.error());
    std::string prefix = box->name + "/";
    children->bind(1, prefix).bind(2, static_cast<std::int64_t>(prefix.size()));
    auto has_child = children->step();
    if (!has_child) return fail(has_child.error());
    children->reset();
    if (*has_child) return store_fail(StoreError::InUse, "mailbox has children: " + box->name);
    auto del = db_.prepare("DELETE FROM mailboxes WHERE id = ?1");
    if (!del) return fail(del.error());
    del->bind(1, box->id);
    if (auto st = del->run(); !st) return st;
    // Move the folder out of the namespace first (one atomic rename; the
    // "..deleted" prefix is not a valid folder name, so reindex skips it),
    // then COMMIT, then remove the files at leisure.
    auto doomed = paths_.maildir / ("..deleted." + unique_base_name());
    if (auto st = rename_path(*folder, doomed); !st) return st;
    if (auto st = commit(*tx); !st) {
        (void)rename_path(doomed, *folder);
        return st;
    }
    std::error_code ec;
    std::filesystem::remove_all(doomed, ec);
    if (ec) log::warn("mailbox_delete_cleanup_failed").kv("path", doomed.string());
    return {};
}

StoreStatus MailboxIndex::set_subscribed(std::string_view name, bool subscribed) {
    auto box = find_mailbox(name);
    if (!box) return fail(box.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto stmt = db_.prepare("UPDATE mailboxes SET subscribed = ?2 WHERE id = ?1");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, box->id).bind(2, std::int64_t{subscribed ? 1 : 0});
    if (auto st = stmt->run(); !st) return st;
    return commit(*tx);
}

// list_messages() and summary() run once per command and once per FETCHed
// message: the mailbox is resolved inside the one query (by its UNIQUE name
// index), and find_mailbox() runs only when no row came back, to tell an
// empty mailbox or a missing UID from a missing mailbox.
StoreResult<std::vector<MessageInfo>> MailboxIndex::list_messages(std::string_view mailbox) {
    auto canonical = validate_mailbox_name(mailbox);
    if (!canonical) return fail(canonical.error());
    auto stmt = db_.prepare(
        "SELECT m.uid, m.flags, m.size, m.modseq, m.internal_date, m.file "
        "FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id WHERE b.name = ?1 "
        "ORDER BY m.uid");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *canonical);
    std::vector<MessageInfo> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back(read_message(*stmt));
    }
    if (out.empty()) {
        if (auto box = find_mailbox(*canonical); !box) return fail(box.error());
    }
    return out;
}

StoreResult<std::string> MailboxIndex::summary(std::string_view mailbox, std::uint32_t uid) {
    auto canonical = validate_mailbox_name(mailbox);
    if (!canonical) return fail(canonical.error());
    auto stmt = db_.prepare(
        "SELECT m.summary FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id "
        "WHERE b.name = ?1 AND m.uid = ?2");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *canonical).bind(2, std::int64_t{uid});
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) {
        if (auto box = find_mailbox(*canonical); !box) return fail(box.error());
        return store_fail(StoreError::NotFound, "no uid " + std::to_string(uid));
    }
    return stmt->column_text(0);
}

StoreResult<std::filesystem::path> MailboxIndex::message_path(std::string_view mailbox,
                                                              const MessageInfo& message) {
    auto folder = folder_path(paths_.maildir, mailbox);
    if (!folder) return fail(folder.error());
    auto recorded = *folder / message.file;
    struct stat st {};
    if (::stat(recorded.c_str(), &st) == 0) return recorded;
    std::string base = parse_maildir_name(recorded.filename().string()).base;
    for (const char* sub : {"cur", "new"}) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(*folder / sub, ec)) {
            if (parse_maildir_name(entry.path().filename().string()).base == base) {
                return entry.path();
            }
        }
    }
    return store_fail(StoreError::NotFound, "message file missing: " + recorded.string());
}

StoreResult<Usage> MailboxIndex::usage() {
    auto stmt = db_.prepare("SELECT coalesce(sum(size), 0), count(*) FROM messages");
    if (!stmt) return fail(stmt.error());
    auto row = stmt->step();
    if (!row) return fail(row.error());
    return Usage{static_cast<std::uint64_t>(stmt->column_int(0)),
                 static_cast<std::uint64_t>(stmt->column_int(1))};
}

StoreResult<std::uint64_t> MailboxIndex::change_counter() {
    return read_change_counter(db_);
}

}  // namespace postern::store
