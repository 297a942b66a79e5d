// Recipient resolution: which mailboxes an envelope recipient delivers to.
//
// Order (first match wins), for local@domain:
//   1. a user named local@domain (delivered to INBOX);
//   2. with a recipient delimiter in local ("user+tag"): the user named
//      user@domain, delivered into the folder "tag" if that folder exists,
//      else INBOX;
//   3. an alias for local@domain, else for user@domain (so "team+x@"
//      resolves as "team@"): each target is resolved again by these rules
//      (aliases nest); the tag is not passed on to the targets;
//   4. the domain's catch-all alias ("@domain"), whose targets resolve the
//      same way.
// Nothing matches: UnknownUser (550 5.1.1, exit 67).
//
// Guarantees:
// - The domain is matched case-insensitively; the local part too unless
//   delivery.local_part_case_sensitive (then a user's spelling must match
//   exactly; alias sources are always matched case-insensitively).
// - Alias loops end: an address already expanded in this resolution is
//   skipped, and nesting deeper than kMaxAliasDepth stops the walk; if that
//   leaves no mailbox the result is MailLoop (554 5.4.6).
// - Alias targets outside our domains are skipped with a log line: mda only
//   delivers locally (forwarding is the outbound queue's job).
// - Each (user, mailbox) appears once in the result, in first-seen order.
// - Bounded: at most kMaxTargets mailboxes per recipient.
// Blocking (the lookups hit SQLite): run on the libuv pool.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "mda/mda_status.h"
#include "storage/directory.h"

namespace postern::mda {

// sendmail's MaxAliasRecursion is 10; nobody nests aliases deeper on purpose.
inline constexpr std::size_t kMaxAliasDepth = 10;
// One recipient fanning out to more mailboxes than this is a mistake or an
// attack on the disk; Postfix's duplicate_filter_limit is 1000.
inline constexpr std::size_t kMaxTargets = 1000;

// The directory lookups resolution needs. StoreLookup (delivery.h) is the
// real one; tests use a table.
class DirectoryLookup {
  public:
    virtual ~DirectoryLookup() = default;
    // nullopt when there is no such user (not an error).
    virtual store::StoreResult<std::optional<store::User>> find_user(
        const std::string& address) = 0;
    // Empty when there is no alias.
    virtual store::StoreResult<std::vector<std::string>> alias_targets(
        const std::string& address) = 0;
    virtual store::StoreResult<std::vector<std::string>> catch_all(const std::string& domain) = 0;
    virtual store::StoreResult<bool> is_local_domain(const std::string& domain) = 0;
    virtual store::StoreResult<bool> mailbox_exists(const store::User& user,
                                                    const std::string& mailbox) = 0;
};

struct ResolverOptions {
    std::string delimiters = "+";  // each character is one delimiter; "" = off
    bool local_part_case_sensitive = false;
};

struct Target {
    store::User user;
    std::string mailbox;  // "INBOX" or the plus-address folder
};

Result<std::vector<Target>, Outcome> resolve(DirectoryLookup& lookup, std::string_view address,
                                             const ResolverOptions& options);

// "user+tag" → {"user", "tag"}; without a delimiter (or one at the start)
// → {local, ""}. The first delimiter character found splits.
struct SplitLocal {
    std::string base;
    std::string tag;
};
SplitLocal split_local_part(std::string_view local, std::string_view delimiters);

}  // namespace postern::mda
