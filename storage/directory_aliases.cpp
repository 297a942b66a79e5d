// Directory: aliases and the catch-all (see directory.h).
#include "storage/directory.h"

namespace postern::store {
namespace {

// Alias sources: "local@domain" or "@domain" for the catch-all.
struct AliasSource {
    std::string key;  // local_key, '' for the catch-all
    std::string domain;
};

StoreResult<AliasSource> parse_alias_source(std::string_view source) {
    if (source.starts_with("@")) {
        auto domain = normalize_domain(source.substr(1));
        if (!domain) return fail(domain.error());
        return AliasSource{"", std::move(*domain)};
    }
    auto address = parse_address(source);
    if (!address) return fail(address.error());
    return AliasSource{local_key(address->local), address->domain};
}

}  // namespace

StoreStatus Directory::add_alias(std::string_view source, std::string_view target) {
    return add_alias(source, std::vector<std::string>{std::string(target)});
}

StoreStatus Directory::add_alias(std::string_view source, const std::vector<std::string>& targets) {
    auto src = parse_alias_source(source);
    if (!src) return fail(src.error());
    if (targets.empty())
        return store_fail(StoreError::Invalid, "an alias needs at least one target");
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto id = domain_id(src->domain);
    if (!id) return fail(id.error());
    for (const auto& target : targets) {
        auto dst = parse_address(target);
        if (!dst) return fail(dst.error());
        auto stmt =
            db_.prepare("INSERT INTO aliases (domain_id, local_key, target) VALUES (?1, ?2, ?3)");
        if (!stmt) return fail(stmt.error());
        stmt->bind(1, *id).bind(2, src->key).bind(3, dst->text());
        if (auto st = stmt->run(); !st) {
            if (st.error().code == StoreError::Exists) {
                return store_fail(StoreError::Exists,
                                  "alias exists: " + std::string(source) + " -> " + dst->text());
            }
            return st;
        }
    }
    return tx->commit();
}

StoreStatus Directory::delete_alias(std::string_view source, std::string_view target) {
    auto src = parse_alias_source(source);
    if (!src) return fail(src.error());
    std::string target_text;
    if (!target.empty()) {
        auto dst = parse_address(target);
        if (!dst) return fail(dst.error());
        target_text = dst->text();
    }
    auto tx = Transaction::begin(db_);
    if (!tx) return fail(tx.error());
    auto stmt = db_.prepare(
        "DELETE FROM aliases WHERE domain_id = (SELECT id FROM domains WHERE name = ?1) "
        "AND local_key = ?2 AND (?3 = '' OR target = ?3)");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, src->domain).bind(2, src->key).bind(3, target_text);
    if (auto st = stmt->run(); !st) return st;
    if (db_.changes() == 0) {
        return store_fail(StoreError::NotFound, "no such alias: " + std::string(source));
    }
    return tx->commit();
}

StoreResult<std::vector<Alias>> Directory::list_aliases(std::string_view domain) {
    std::string name;
    if (!domain.empty()) {
        auto normalized = normalize_domain(domain);
        if (!normalized) return fail(normalized.error());
        name = *normalized;
    }
    auto stmt = db_.prepare(
        "SELECT a.local_key || '@' || d.name, a.target FROM aliases a "
        "JOIN domains d ON d.id = a.domain_id WHERE ?1 = '' OR d.name = ?1 "
        "ORDER BY d.name, a.local_key, a.target");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, name);
    std::vector<Alias> out;
    while (true) {
        auto row = stmt->step();
        if (!row) return fail(row.error());
        if (!*row) return out;
        out.push_back(Alias{stmt->column_text(0), stmt->column_text(1)});
    }
}

StoreResult<std::vector<std::string>> Directory::find_alias_targets(std::string_view address) {
    auto parsed = parse_address(address);
    if (!parsed) return fail(parsed.error());
    auto stmt = db_.prepare(
        "SELECT a.target FROM aliases a JOIN domains d ON d.id = a.domain_id "
        "WHERE d.name = ?1 AND a.local_key = ?2 ORDER BY a.target");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, parsed->domain).bind(2, local_key(parsed->local));
    return collect_text(*stmt);
}

StoreResult<std::vector<std::string>> Directory::find_catch_all(std::string_view domain) {
    auto name = normalize_domain(domain);
    if (!name) return fail(name.error());
    auto stmt = db_.prepare(
        "SELECT a.target FROM aliases a JOIN domains d ON d.id = a.domain_id "
        "WHERE d.name = ?1 AND a.local_key = '' ORDER BY a.target");
    if (!stmt) return fail(stmt.error());
    stmt->bind(1, *name);
    return collect_text(*stmt);
}

}  // namespace postern::store
