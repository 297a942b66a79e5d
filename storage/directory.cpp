#include "storage/directory.h"

#include "storage/migrations.h"

namespace postern::store {
namespace {

// A user row, read from "SELECT u.local, d.name, u.password_hash,
// u.quota_bytes, u.quota_messages".
User read_user(const Statement& s) {
    return User{s.column_text(0), s.column_text(1), s.column_text(2),
                Quota{static_cast<std::uint64_t>(s.column_int(3)),
                      static_cast<std::uint64_t>(s.column_int(4))}};
}

constexpr const char* kUserSelect =
    "SELECT u.local, d.name, u.password_hash, u.quota_bytes, u.quota_messages "
    "FROM users u JOIN domains d ON d.id = u.domain_id ";

}  // namespace

StoreResult<Directory> Directory::open(const std::filesystem::path& path, PasswordParams params) {
    auto db = Db::open(path);
    if (!db) return fail(db.error());
    if (auto v = migrate(*db, directory_migrations()); !v) return fail(v.error());
    return Directory(std::move(*db), params);
}

StoreResult<std::int64_t> Directory::domain_id(std::string_view domain) {
    auto name = normalize_domain(domain);
    if (!name) return fail(name.error());
    auto stmt = db_.prepare("SELECT id FROM domains WHERE name = ?1");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *name);
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "unknown domain: " + *name);
    return stmt->column_int(0);
}

StoreStatus Directory::add_domain(std::string_view domain) {
    auto name = normalize_domain(domain);
    if (!name) return fail(name.error());
    auto stmt = db_.prepare("INSERT INTO domains (name) VALUES (?1)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *name);
    if (auto st = stmt->run(); !st) {
        if (st.error().code == StoreError::Exists) {
            return store_fail(StoreError::Exists, "domain exists: " + *name);
        }
        return st;
    }
    return {};
}

StoreStatus Directory::delete_domain(std::string_view domain) {
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto id = domain_id(domain);
    if (!id) return fail(id.error());
    auto used = db_.prepare(
        "SELECT (SELECT count(*) FROM users WHERE domain_id = ?1) + "
        "(SELECT count(*) FROM aliases WHERE domain_id = ?1)");
    if (!used) return fail(used.error());
    used->bind(1, *id);
    auto row = used->step();
    if (!row) return fail(row.error());
    if (used->column_int(0) > 0) {
        return store_fail(StoreError::InUse, "domain has users or aliases: " + std::string(domain));
    }
    used->reset();
    auto del = db_.prepare("DELETE FROM domains WHERE id = ?1");
    if (!del) return fail(del.error());
    del->bind(1, *id);
    if (auto st = del->run(); !st) return st;
    return tx->commit();
}

StoreResult<std::vector<std::string>> Directory::list_domains() {
    auto stmt = db_.prepare("SELECT name FROM domains ORDER BY name");
    if (!stmt) return fail(stmt.error());
    return collect_text(*stmt);
}

StoreResult<bool> Directory::domain_exists(std::string_view domain) {
    auto id = domain_id(domain);
    if (id) return true;
    if (id.error().code == StoreError::NotFound) return false;
    return fail(id.error());
}

StoreResult<User> Directory::add_user(std::string_view address,
                                      const Secret<std::string>& password) {
    auto parsed = parse_address(address);
    if (!parsed) return fail(parsed.error());
    // Hash before the transaction: Argon2id takes a while and must not hold
    // the directory's write lock.
    auto hash = hash_password(password, params_);
    if (!hash) return fail(hash.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto id = domain_id(parsed->domain);
    if (!id) return fail(id.error());
    auto stmt = db_.prepare(
        "INSERT INTO users (domain_id, local, local_key, password_hash) VALUES (?1, ?2, ?3, ?4)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *id).bind(2, parsed->local).bind(3, local_key(parsed->local)).bind(4, *hash);
    if (auto st = stmt->run(); !st) {
        if (st.error().code == StoreError::Exists) {
            return store_fail(StoreError::Exists, "user exists: " + parsed->text());
        }
        return fail(st.error());
    }
    if (auto st = tx->commit(); !st) return fail(st.error());
    return User{parsed->local, parsed->domain, std::move(*hash), Quota{}};
}

StoreResult<User> Directory::find_user(std::string_view address) {
    auto parsed = parse_address(address);
    if (!parsed) return fail(parsed.error());
    auto stmt = db_.prepare(std::string(kUserSelect) + "WHERE d.name = ?1 AND u.local_key = ?2");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, parsed->domain).bind(2, local_key(parsed->local));
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "no such user: " + parsed->text());
    return read_user(*stmt);
}

StoreStatus Directory::update_user(std::string_view address, const char* sql,
                                   const std::function<void(Statement&)>& bind_rest) {
    auto parsed = parse_address(address);
    if (!parsed) return fail(parsed.error());
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto find = db_.prepare(
        "SELECT u.id FROM users u JOIN domains d ON d.id = u.domain_id "
        "WHERE d.name = ?1 AND u.local_key = ?2");
    if (!find) return fail(find.error());
    find->bind(1, parsed->domain).bind(2, local_key(parsed->local));
    auto row = find->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::NotFound, "no such user: " + parsed->text());
    std::int64_t id = find->column_int(0);
    find->reset();
    auto stmt = db_.prepare(sql);
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, id);
    if (bind_rest) bind_rest(*stmt);
    if (auto st = stmt->run(); !st) return st;
    return tx->commit();
}

StoreStatus Directory::delete_user(std::string_view address) {
    return update_user(address, "DELETE FROM users WHERE id = ?1", nullptr);
}

StoreStatus Directory::set_password(std::string_view address, const Secret<std::string>& password) {
    if (auto user = find_user(address); !user) return fail(user.error());
    auto hash = hash_password(password, params_);
    if (!hash) return fail(hash.error());
    return set_password_hash(address, *hash);
}

StoreStatus Directory::set_password_hash(std::string_view address, std::string_view hash) {
    if (hash.empty()) return store_fail(StoreError::Invalid, "empty password hash");
    return update_user(address, "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                       [&](Statement& s) { s.bind(2, hash); });
}

StoreStatus Directory::set_quota(std::string_view address, Quota quota) {
    // SQLite integers are signed 64-bit; a quota beyond that is "unlimited" in practice.
    constexpr std::uint64_t kMax = INT64_MAX;
    if (quota.bytes > kMax || quota.messages > kMax) {
        return store_fail(StoreError::Invalid, "quota out of range");
    }
    return update_user(address,
                       "UPDATE users SET quota_bytes = ?2, quota_messages = ?3 WHERE id = ?1",
                       [&](Statement& s) {
                           s.bind(2, static_cast<std::int64_t>(quota.bytes));
                           s.bind(3, static_cast<std::int64_t>(quota.messages));
                       });
}

StoreResult<std::vector<User>> Directory::list_users(std::string_view domain) {
    std::string sql = kUserSelect;
    std::string name;
    if (!domain.empty()) {
        auto normalized = normalize_domain(domain);
        if (!normalized) return fail(normalized.error());
        name = *normalized;
        sql += "WHERE d.name = ?1 ";
    }
    auto stmt = db_.prepare(sql + "ORDER BY d.name, u.local_key");
    if (!stmt) return fail(stmt.error());
    if (!name.empty()) stmt->bind(1, name);
    std::vector<User> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return fail(row.error());
        if (!*row) return out;
        out.push_back(read_user(*stmt));
    }
}

}  // namespace postern::store
