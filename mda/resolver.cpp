#include "mda/resolver.h"

#include <set>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "storage/address.h"
#include "storage/data_dir.h"

namespace postern::mda {
namespace {

// One resolution: the addresses already expanded, and what was found.
class Walk {
  public:
    Walk(DirectoryLookup& lookup, const ResolverOptions& options)
        : lookup_(lookup), options_(options) {}

    // False with failure_ set on a lookup error (Temp): the whole resolution
    // fails, since a partial answer would drop mail silently.
    bool expand(std::string_view address, std::size_t depth);

    std::vector<Target> targets;
    std::optional<Outcome> failure;
    bool hit_depth = false;

  private:
    bool fail_with(const store::Failure& f) {
        failure = Outcome{DeliveryStatus::TempFail, f.detail};
        return false;
    }
    // Step 1/2: a user; sets `found`.
    bool try_user(const std::string& local, const std::string& domain, const std::string& tag,
                  bool& found);
    bool add(const store::User& user, const std::string& mailbox);
    bool expand_all(const std::vector<std::string>& addresses, std::size_t depth);

    DirectoryLookup& lookup_;
    const ResolverOptions& options_;
    std::set<std::string> visited_;
    std::set<std::string> seen_targets_;
};

bool Walk::add(const store::User& user, const std::string& mailbox) {
    std::string key = ascii_lowercase(user.address()) + "\n" + mailbox;
    if (!seen_targets_.insert(key).second) return true;
    if (targets.size() >= kMaxTargets) {
        log::warn("resolve_too_many_targets").kv("limit", static_cast<std::uint64_t>(kMaxTargets));
        return true;
    }
    targets.push_back(Target{user, mailbox});
    return true;
}

bool Walk::try_user(const std::string& local, const std::string& domain, const std::string& tag,
                    bool& found) {
    auto user = lookup_.find_user(local + "@" + domain);
    if (!user) return fail_with(user.error());
    found = user->has_value() && (!options_.local_part_case_sensitive || (*user)->local == local);
    if (!found) return true;
    std::string mailbox(store::kInbox);
    if (!tag.empty()) {
        auto exists = lookup_.mailbox_exists(**user, tag);
        if (!exists) return fail_with(exists.error());
        if (*exists) mailbox = tag;
    }
    return add(**user, mailbox);
}

bool Walk::expand_all(const std::vector<std::string>& addresses, std::size_t depth) {
    for (const auto& a : addresses) {
        if (!expand(a, depth + 1)) return false;
    }
    return true;
}

bool Walk::expand(std::string_view address, std::size_t depth) {
    if (depth > kMaxAliasDepth) {
        hit_depth = true;
        return true;
    }
    auto parsed = store::parse_address(address);
    if (!parsed) {
        log::warn("resolve_skip_bad_address").kv("address", printable(address));
        return true;
    }
    const std::string& local = parsed->local;
    const std::string& domain = parsed->domain;
    std::string key =
        (options_.local_part_case_sensitive ? local : ascii_lowercase(local)) + "@" + domain;
    if (!visited_.insert(key).second) return true;  // a loop, or a diamond: done already

    auto local_domain = lookup_.is_local_domain(domain);
    if (!local_domain) return fail_with(local_domain.error());
    if (!*local_domain) {
        log::warn("resolve_skip_remote_target").kv("address", printable(address));
        return true;
    }
    SplitLocal split = split_local_part(local, options_.delimiters);
    bool found = false;
    if (!try_user(local, domain, "", found)) return false;
    if (found) return true;
    const bool has_tag = split.base != local;
    if (has_tag) {
        if (!try_user(split.base, domain, split.tag, found)) return false;
        if (found) return true;
    }
    auto aliases = lookup_.alias_targets(local + "@" + domain);
    if (!aliases) return fail_with(aliases.error());
    if (aliases->empty() && has_tag) {
        aliases = lookup_.alias_targets(split.base + "@" + domain);
        if (!aliases) return fail_with(aliases.error());
    }
    if (!aliases->empty()) return expand_all(*aliases, depth);
    auto catch_all = lookup_.catch_all(domain);
    if (!catch_all) return fail_with(catch_all.error());
    return expand_all(*catch_all, depth);
}

}  // namespace

SplitLocal split_local_part(std::string_view local, std::string_view delimiters) {
    std::size_t at = delimiters.empty() ? std::string_view::npos : local.find_first_of(delimiters);
    if (at == std::string_view::npos || at == 0) return {std::string(local), ""};
    return {std::string(local.substr(0, at)), std::string(local.substr(at + 1))};
}

Result<std::vector<Target>, Outcome> resolve(DirectoryLookup& lookup, std::string_view address,
                                             const ResolverOptions& options) {
    auto parsed = store::parse_address(address);
    if (!parsed) return fail(Outcome{DeliveryStatus::UnknownUser, parsed.error().detail});
    Walk walk(lookup, options);
    if (!walk.expand(address, 0)) return fail(*walk.failure);
    if (!walk.targets.empty()) return std::move(walk.targets);
    if (walk.hit_depth) {
        return fail(Outcome{DeliveryStatus::MailLoop,
                            "alias nesting deeper than " + std::to_string(kMaxAliasDepth)});
    }
    return fail(Outcome{DeliveryStatus::UnknownUser, "no user, alias or catch-all"});
}

}  // namespace postern::mda
