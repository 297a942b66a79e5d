// A table-backed DirectoryLookup for resolver tests: no SQLite, no disk.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/ascii.h"
#include "mda/resolver.h"

namespace postern::mda::testing {

struct FakeLookup final : DirectoryLookup {
    std::set<std::string> domains = {"example.org"};
    // Key: lowercased address; value: the spelling the user was created with.
    std::map<std::string, std::string> users;
    std::map<std::string, std::vector<std::string>> aliases;  // lowercased source
    std::map<std::string, std::vector<std::string>> catch_alls;
    std::set<std::string> folders;  // "user@domain/Folder"
    bool fail_lookups = false;
    int lookups = 0;

    void add_user(const std::string& address) { users[ascii_lowercase(address)] = address; }

    store::StoreResult<std::optional<store::User>> find_user(const std::string& address) override {
        ++lookups;
        if (fail_lookups) return store::store_fail(store::StoreError::Temp, "database is locked");
        auto it = users.find(ascii_lowercase(address));
        if (it == users.end()) return std::optional<store::User>();
        store::User u;
        auto at = it->second.find('@');
        u.local = it->second.substr(0, at);
        u.domain = it->second.substr(at + 1);
        return std::optional<store::User>(u);
    }
    store::StoreResult<std::vector<std::string>> alias_targets(
        const std::string& address) override {
        ++lookups;
        auto it = aliases.find(ascii_lowercase(address));
        return it == aliases.end() ? std::vector<std::string>() : it->second;
    }
    store::StoreResult<std::vector<std::string>> catch_all(const std::string& domain) override {
        auto it = catch_alls.find(domain);
        return it == catch_alls.end() ? std::vector<std::string>() : it->second;
    }
    store::StoreResult<bool> is_local_domain(const std::string& domain) override {
        return domains.count(domain) > 0;
    }
    store::StoreResult<bool> mailbox_exists(const store::User& user,
                                            const std::string& mailbox) override {
        return folders.count(ascii_lowercase(user.address()) + "/" + mailbox) > 0;
    }
};

}  // namespace postern::mda::testing
