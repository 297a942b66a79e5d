#include "smtpd/relay_policy.h"

#include "common/base/ascii.h"

namespace postern::smtp {
namespace {

using store::StoreError;

// The candidates for one address, most specific first.
std::vector<std::string> candidates(const std::string& local, const std::string& domain,
                                    std::string_view delimiter) {
    std::vector<std::string> out = {local + "@" + domain};
    std::string base = strip_detail(local, delimiter);
    if (base != local && !base.empty()) out.push_back(base + "@" + domain);
    return out;
}

bool same_address(std::string_view a, std::string_view b) {
    return iequals(a, b);  // domains are lowercase; local parts compare case-insensitively
}

}  // namespace

bool relay_spelling(const Path& path) {
    return path.percent_hack || path.bang_path || path.quoted_at || path.is_address_literal();
}

std::string strip_detail(std::string_view local, std::string_view delimiter) {
    if (delimiter.empty()) return std::string(local);
    std::size_t cut = local.find_first_of(delimiter);
    return std::string(local.substr(0, cut));
}

RecipientVerdict lookup_recipient(store::Directory& dir, const Path& path,
                                  std::string_view delimiter) {
    std::string local = path.local_part;
    std::string domain = path.domain;
    if (path.is_postmaster) {
        auto domains = dir.list_domains();
        if (!domains) return {RecipientKind::Temp, {}, domains.error().detail};
        if (domains->empty()) return {RecipientKind::Unknown, {}, {}};
        local = "postmaster";
        domain = domains->front();
    }
    auto exists = dir.domain_exists(domain);
    if (!exists) return {RecipientKind::Temp, {}, exists.error().detail};
    if (!*exists) return {RecipientKind::Remote, {}, {}};
    const std::string address = local + "@" + domain;
    for (const auto& candidate : candidates(local, domain, delimiter)) {
        auto user = dir.find_user(candidate);
        if (user) return {RecipientKind::Local, address, {}};
        if (user.error().code != StoreError::NotFound && user.error().code != StoreError::Invalid)
            return {RecipientKind::Temp, {}, user.error().detail};
        auto targets = dir.find_alias_targets(candidate);
        if (!targets && targets.error().code != StoreError::Invalid)
            return {RecipientKind::Temp, {}, targets.error().detail};
        if (targets && !targets->empty()) return {RecipientKind::Local, address, {}};
    }
    auto catch_all = dir.find_catch_all(domain);
    if (!catch_all) return {RecipientKind::Temp, {}, catch_all.error().detail};
    if (!catch_all->empty()) return {RecipientKind::Local, address, {}};
    return {RecipientKind::Unknown, {}, {}};
}

SenderVerdict check_sender(store::Directory& dir, std::string_view user, const Path& sender,
                           std::string_view delimiter) {
    if (sender.is_null || relay_spelling(sender) || sender.domain_kind != DomainKind::Name)
        return SenderVerdict::NotOwned;
    for (const auto& candidate : candidates(sender.local_part, sender.domain, delimiter)) {
        if (same_address(candidate, user)) return SenderVerdict::Owned;
        auto targets = dir.find_alias_targets(candidate);
        if (!targets) {
            if (targets.error().code == StoreError::Invalid) continue;
            return SenderVerdict::Temp;
        }
        for (const auto& target : *targets) {
            if (same_address(target, user)) return SenderVerdict::Owned;
        }
    }
    return SenderVerdict::NotOwned;
}

}  // namespace postern::smtp
