#include "storage/migrations.h"

#include <array>
#include <string>

namespace postern::store {
namespace {

// directory.db: who exists. Local parts keep their spelling in `local` and
// are matched through `local_key` (ASCII-lowercased) so that "John" and
// "john" are one user.
constexpr std::array kDirectory = {
    Migration{R"sql(
CREATE TABLE domains (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    local TEXT NOT NULL,
    local_key TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    quota_bytes INTEGER NOT NULL DEFAULT 0,
    quota_messages INTEGER NOT NULL DEFAULT 0,
    UNIQUE (domain_id, local_key)
);
CREATE TABLE aliases (
    id INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id),
    local_key TEXT NOT NULL,  -- '' is the catch-all of the domain
    target TEXT NOT NULL,
    UNIQUE (domain_id, local_key, target)
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql"},
};

// index.db: one per user. `file` is relative to the folder directory
// ("new/<name>" or "cur/<name>:2,<flags>"). user_state holds the change feed
// counter and the last UIDVALIDITY handed out (never reused, even after DELETE).
constexpr std::array kIndex = {
    Migration{R"sql(
CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL,
    highestmodseq INTEGER NOT NULL,
    subscribed INTEGER NOT NULL DEFAULT 1,
    special_use TEXT NOT NULL DEFAULT ''
);
CREATE TABLE messages (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid INTEGER NOT NULL,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    summary BLOB NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TABLE user_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    change_counter INTEGER NOT NULL,
    last_uidvalidity INTEGER NOT NULL
);
INSERT INTO user_state (id, change_counter, last_uidvalidity) VALUES (1, 0, 0);
)sql"},
    // Version 2: a covering index for listing a mailbox (every IMAP command
    // resynchronises the session's view; POP3 login lists INBOX). Without it
    // the listing walks the table's rows, which carry the ~1 KiB summary
    // each: ~3 rows per page instead of ~40.
    Migration{R"sql(
CREATE INDEX messages_listing
    ON messages (mailbox_id, uid, flags, size, modseq, internal_date, file);
)sql"},
};

StoreResult<int> user_version(Db& db) {
    auto stmt = db.prepare("PRAGMA user_version");
    if (!stmt) return fail(stmt.error());
    auto row = stmt->step();
    if (!row) return fail(row.error());
    return static_cast<int>(stmt->column_int(0));
}

}  // namespace

std::span<const Migration> directory_migrations() {
    return kDirectory;
}
std::span<const Migration> index_migrations() {
    return kIndex;
}

StoreResult<int> migrate(Db& db, std::span<const Migration> steps) {
    auto found = user_version(db);
    if (!found) return found;
    int have = *found;
    if (have > static_cast<int>(steps.size())) {
        return store_fail(StoreError::Invalid, "schema version " + std::to_string(have) +
                                                   " is newer than this program knows");
    }
    for (int v = have; v < static_cast<int>(steps.size()); ++v) {
        auto tx = Transaction::begin(db);
        if (!tx) return fail(tx.error());
        if (auto st = db.exec(steps[static_cast<std::size_t>(v)].sql); !st) return fail(st.error());
        // PRAGMA takes no bound parameters; v is our own integer, not input.
        std::string set = "PRAGMA user_version=" + std::to_string(v + 1);
        if (auto st = db.exec(set.c_str()); !st) return fail(st.error());
        if (auto st = tx->commit(); !st) return fail(st.error());
    }
    return have;
}

}  // namespace postern::store
