// The directory (directory.db): domains, users, aliases and quotas.
//
// Contract:
// - Addresses are normalized on the way in (address.h): the domain is
//   lowercased, the local part keeps its spelling and is matched
//   case-insensitively.
// - Every changing call is one transaction: a failed call writes nothing.
// - Bad input is Invalid (syntax, empty password), a missing domain/user/alias
//   NotFound, a duplicate Exists, deleting a domain that still has users or
//   aliases InUse. Details name the offending value, never a password.
// - The mda composes resolution (plus-addressing, loop guard) from the
//   primitives find_user, find_alias_targets and find_catch_all.
// Blocking (SQLite, Argon2id): run on the libuv pool.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log/secret.h"
#include "storage/address.h"
#include "storage/password.h"
#include "storage/sqlite.h"

namespace postern::store {

struct Quota {
    std::uint64_t bytes = 0;     // 0 = unlimited
    std::uint64_t messages = 0;  // 0 = unlimited
};

struct User {
    std::string local;   // as created
    std::string domain;  // lowercased
    std::string password_hash;
    Quota quota;
    std::string address() const { return local + "@" + domain; }
};

struct Alias {
    std::string source;  // "local@domain", or "@domain" for the catch-all
    std::string target;
};

class Directory {
  public:
    static StoreResult<Directory> open(const std::filesystem::path& path,
                                       PasswordParams params = PasswordParams::interactive());
    Directory(Directory&&) noexcept = default;
    Directory& operator=(Directory&&) noexcept = default;

    StoreStatus add_domain(std::string_view domain);
    StoreStatus delete_domain(std::string_view domain);
    StoreResult<std::vector<std::string>> list_domains();
    StoreResult<bool> domain_exists(std::string_view domain);

    StoreResult<User> add_user(std::string_view address, const Secret<std::string>& password);
    StoreStatus delete_user(std::string_view address);
    StoreStatus set_password(std::string_view address, const Secret<std::string>& password);
    // Stores an already computed hash: for rehashing after a login with
    // needs_rehash(), without hashing the password twice.
    StoreStatus set_password_hash(std::string_view address, std::string_view hash);
    StoreStatus set_quota(std::string_view address, Quota quota);
    // All users, or those of one domain; ordered by domain, then local part.
    StoreResult<std::vector<User>> list_users(std::string_view domain = {});
    StoreResult<User> find_user(std::string_view address);

    // source is "local@domain" or "@domain" (catch-all); the domain must be
    // ours. Targets are addresses (local or remote), one row per target.
    StoreStatus add_alias(std::string_view source, std::string_view target);
    // Several targets at once, all or none (one transaction).
    StoreStatus add_alias(std::string_view source, const std::vector<std::string>& targets);
    // Without a target: every target of source.
    StoreStatus delete_alias(std::string_view source, std::string_view target = {});
    StoreResult<std::vector<Alias>> list_aliases(std::string_view domain = {});
    // Empty when the address has no alias (not an error: the caller goes on
    // to the catch-all).
    StoreResult<std::vector<std::string>> find_alias_targets(std::string_view address);
    StoreResult<std::vector<std::string>> find_catch_all(std::string_view domain);

    Db& db() { return db_; }

  private:
    Directory(Db db, PasswordParams params) : db_(std::move(db)), params_(params) {}
    StoreResult<std::int64_t> domain_id(std::string_view domain);
    // Runs `sql` with ?1 = the user's id (bind_rest binds the others) in one
    // transaction; NotFound if there is no such user.
    StoreStatus update_user(std::string_view address, const char* sql,
                            const std::function<void(Statement&)>& bind_rest);

    Db db_;
    PasswordParams params_;
};

}  // namespace postern::store
