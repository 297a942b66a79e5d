// MailboxIndex: the calls that change messages or rename mailboxes (see
// mailbox_index.h for the ordering contract between files and COMMIT).
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/log/log.h"
#include "storage/mailbox_index.h"

namespace postern::store {
namespace {

using Renames = MailboxIndex::Renames;

// Undoes renames in reverse order after a failed COMMIT; best effort, since
// we are already on an error path (message_path() copes with leftovers).
void undo(const Renames& done) {
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
        if (::rename(it->second.c_str(), it->first.c_str()) != 0) {
            log::error("store_undo_rename_failed").kv("path", it->second.string());
        }
    }
}

StoreStatus rename_logged(Renames& done, const std::filesystem::path& from,
                          const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return fail(errno_failure("rename " + from.string() + " -> " + to.string(), errno));
    }
    done.emplace_back(from, to);
    return {};
}

Flags apply_mode(Flags old, Flags change, FlagMode mode) {
    if (mode == FlagMode::Replace) return change & kAllFlags;
    if (mode == FlagMode::Add) return (old | change) & kAllFlags;
    return old & ~change;
}

}  // namespace

StoreStatus MailboxIndex::rename_mailbox(std::string_view from, std::string_view to) {
    auto box = find_mailbox(from);
    if (!box) return fail(box.error());
    auto target = validate_mailbox_name(to);
    if (!target) return fail(target.error());
    if (box->name == kInbox) return store_fail(StoreError::Invalid, "renaming INBOX unsupported");
    if (*target == kInbox) return store_fail(StoreError::Exists, "mailbox exists: INBOX");
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto list =
        db_.prepare("SELECT id, name FROM mailboxes WHERE name = ?1 OR substr(name, 1, ?3) = ?2");
    if (!list) return fail(list.error());
    std::string prefix = box->name + "/";
    list->bind(1, box->name).bind(2, prefix).bind(3, static_cast<std::int64_t>(prefix.size()));
    std::vector<std::pair<std::int64_t, std::string>> moved;  // id, old name
    while (true) {
        auto row = list->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        moved.emplace_back(list->column_int(0), list->column_text(1));
    }
    auto update = db_.prepare("UPDATE mailboxes SET name = ?2 WHERE id = ?1");
    if (!update) return fail(update.error());
    Renames done;
    for (const auto& [id, old_name] : moved) {
        std::string new_name = *target + old_name.substr(box->name.size());
        auto old_dir = folder_path(paths_.maildir, old_name);
        auto new_dir = folder_path(paths_.maildir, new_name);
        if (!old_dir || !new_dir) {
            undo(done);
            return fail(!old_dir ? old_dir.error() : new_dir.error());
        }
        update->reset();
        update->bind(1, id).bind(2, new_name);
        auto st = update->run();
        if (st) st = rename_logged(done, *old_dir, *new_dir);
        if (!st) {
            undo(done);
            if (st.error().code == StoreError::Exists) {
                return store_fail(StoreError::Exists, "mailbox exists: " + new_name);
            }
            return st;
        }
    }
    if (auto st = commit(*tx); !st) {
        undo(done);
        return st;
    }
    return {};
}

StoreResult<std::vector<MessageInfo>> MailboxIndex::load_messages(
    std::int64_t mailbox_id, const std::vector<std::uint32_t>& uids) {
    auto select = db_.prepare(
        "SELECT uid, flags, size, modseq, internal_date, file FROM messages "
        "WHERE mailbox_id = ?1 AND uid = ?2");
    if (!select) return fail(select.error());
    std::vector<MessageInfo> out;
    for (std::uint32_t uid : uids) {
        select->reset();
        select->bind(1, mailbox_id).bind(2, std::int64_t{uid});
        auto row = select->step();
        if (!row) return fail(row.error());
        if (!*row) continue;  // unknown UIDs are skipped (RFC 3501 §6.4.8)
        MessageInfo m;
        m.uid = uid;
        m.flags = static_cast<Flags>(select->column_int(1));
        m.size = static_cast<std::uint64_t>(select->column_int(2));
        m.modseq = static_cast<std::uint64_t>(select->column_int(3));
        m.internal_date = select->column_int(4);
        m.file = select->column_text(5);
        out.push_back(std::move(m));
    }
    return out;
}

// The file first (into cur/ with the new info suffix), then the row.
StoreStatus MailboxIndex::rewrite_flags(const MailboxInfo& box, MessageInfo& m, Flags next,
                                        std::uint64_t modseq, Renames& done) {
    auto located = message_path(box.name, m);
    if (!located) return fail(located.error());
    std::string new_file = "cur/" + with_flags(located->filename().string(), next);
    auto folder = located->parent_path().parent_path();
    if (auto st = rename_logged(done, *located, folder / new_file); !st) return st;
    auto update = db_.prepare(
        "UPDATE messages SET flags = ?3, file = ?4, modseq = ?5 WHERE mailbox_id = ?1 AND uid = "
        "?2");
    if (!update) return fail(update.error());
    update->bind(1, box.id).bind(2, std::int64_t{m.uid}).bind(3, std::int64_t{next});
    update->bind(4, new_file).bind(5, static_cast<std::int64_t>(modseq));
    if (auto st = update->run(); !st) return st;
    m.flags = next;
    m.file = new_file;
    m.modseq = modseq;
    return {};
}

StoreResult<std::vector<MessageInfo>> MailboxIndex::set_flags(
    std::string_view mailbox, const std::vector<std::uint32_t>& uids, Flags flags, FlagMode mode) {
    auto box = find_mailbox(mailbox);
    if (!box) return fail(box.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto current = load_messages(box->id, uids);
    if (!current) return fail(current.error());
    std::vector<MessageInfo> changed;
    Renames done;
    std::uint64_t modseq = 0;  // RFC 7162 §3.1: one new MODSEQ for the whole STORE
    for (auto& m : *current) {
        Flags next = apply_mode(m.flags, flags, mode);
        if (next == m.flags) continue;
        StoreStatus st;
        if (modseq == 0) {
            auto bumped = bump_modseq(box->id);
            if (bumped) modseq = *bumped;
            if (!bumped) st = fail(bumped.error());
        }
        if (st) st = rewrite_flags(*box, m, next, modseq, done);
        if (!st) {
            undo(done);
            return fail(st.error());
        }
        changed.push_back(m);
    }
    if (changed.empty()) return changed;
    if (auto st = commit(*tx); !st) {
        undo(done);
        return fail(st.error());
    }
    return changed;
}

StoreResult<std::vector<std::uint32_t>> MailboxIndex::expunge(
    std::string_view mailbox, const std::vector<std::uint32_t>& uids) {
    auto box = find_mailbox(mailbox);
    if (!box) return fail(box.error());
    auto folder = folder_path(paths_.maildir, box->name);
    if (!folder) return fail(folder.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto del =
        db_.prepare("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2 RETURNING file");
    if (!del) return fail(del.error());
    std::vector<std::uint32_t> gone;
    std::vector<MessageInfo> files;
    for (std::uint32_t uid : uids) {
        del->reset();
        del->bind(1, box->id).bind(2, std::int64_t{uid});
        auto row = del->step();
        if (!row) return fail(row.error());
        if (!*row) continue;
        MessageInfo m;
        m.uid = uid;
        m.file = del->column_text(0);
        files.push_back(std::move(m));
        del->reset();  // a RETURNING statement must be finished before COMMIT
        gone.push_back(uid);
    }
    if (gone.empty()) return gone;
    if (auto bumped = bump_modseq(box->id); !bumped) return fail(bumped.error());
    if (auto st = commit(*tx); !st) return fail(st.error());
    for (const auto& m : files) {
        auto path = message_path(box->name, m);
        if (path && ::unlink(path->c_str()) != 0) {
            log::warn("expunge_unlink_failed").kv("path", path->string()).kv("errno", errno);
        }
    }
    return gone;
}

StoreResult<MailboxIndex::Reservation> MailboxIndex::reserve_uid(std::string_view mailbox) {
    auto box = find_mailbox(mailbox);
    if (!box) return fail(box.error());
    auto folder = folder_path(paths_.maildir, box->name);
    if (!folder) return fail(folder.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto stmt = db_.prepare(
        "UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ?1 RETURNING uidnext - 1");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, box->id);
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "mailbox vanished: " + box->name);
    auto uid = static_cast<std::uint32_t>(stmt->column_int(0));
    stmt->reset();  // a RETURNING statement must be finished before COMMIT
    // Not a visible change (no message yet), so no change-feed bump.
    if (auto st = tx->commit(); !st) return fail(st.error());
    return Reservation{box->id, *folder, uid};
}

StoreStatus MailboxIndex::add_message(const Reservation& r, const MessageInfo& message,
                                      std::string_view summary) {
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto modseq = bump_modseq(r.mailbox_id);
    if (!modseq) return fail(modseq.error());
    auto stmt = db_.prepare(
        "INSERT INTO messages (mailbox_id, uid, file, size, internal_date, flags, modseq, summary) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, r.mailbox_id).bind(2, std::int64_t{r.uid}).bind(3, message.file);
    stmt->bind(4, static_cast<std::int64_t>(message.size)).bind(5, message.internal_date);
    stmt->bind(6, std::int64_t{message.flags}).bind(7, static_cast<std::int64_t>(*modseq));
    stmt->bind_blob(8, summary);
    if (auto st = stmt->run(); !st) return st;
    return commit(*tx);
}

StoreStatus MailboxIndex::remove_message(const Reservation& r) {
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto stmt = db_.prepare("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, r.mailbox_id).bind(2, std::int64_t{r.uid});
    if (auto st = stmt->run(); !st) return st;
    if (auto bumped = bump_modseq(r.mailbox_id); !bumped) return fail(bumped.error());
    return commit(*tx);
}

}  // namespace postern::store
