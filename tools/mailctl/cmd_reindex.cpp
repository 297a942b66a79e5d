// `mailctl reindex ADDRESS`: rebuilds a user's index from the Maildir,
// keeping every UID already assigned (storage/reindex.h). Stop the daemons
// that serve this user first: reindex replaces index.db underneath them.
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/base/sysexits.h"
#include "common/mail/message_summary.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/store_access.h"

namespace postern::mailctl {
namespace {

// The same cached summary the mda stores at delivery.
std::string summarize_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return mail::serialize(mail::summarize(text.str()));
}

}  // namespace

int cmd_reindex(const Context& ctx, const Words& words) {
    auto args = Args::parse(words, {}, {"--json"});
    if (!args) return complain(kExUsage, args.error().message);
    if (args->positional().size() != 1) return complain(kExUsage, "usage: mailctl reindex ADDRESS");
    auto opened = open_store(ctx.config_path);
    if (!opened) return complain(kExConfig, opened.error().message);
    auto& store = opened->store;
    auto user = store.directory().find_user(args->positional()[0]);
    if (!user) return complain(kExNoUser, user.error().detail);
    auto stats = store.reindex_user(*user, summarize_file);
    if (!stats) return complain(kExTempFail, stats.error().detail);
    std::cout << "reindexed " << user->address() << ": " << stats->mailboxes << " mailboxes, "
              << stats->messages << " messages, " << stats->new_uids << " new UIDs, uidvalidity "
              << (stats->kept_uidvalidity ? "kept" : "new") << "\n";
    return kExOk;
}

}  // namespace postern::mailctl
