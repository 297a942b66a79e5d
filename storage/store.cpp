#include "storage/store.h"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "common/log/log.h"

namespace postern::store {

StoreResult<Store> Store::open(const std::filesystem::path& root, PasswordParams params) {
    std::error_code ec;
    std::filesystem::create_directories(root / "users", ec);
    if (ec) return fail(errno_failure("mkdir " + root.string(), ec.value()));
    DataDir dir(root);
    auto directory = Directory::open(dir.directory_db(), params);
    if (!directory) return fail(directory.error());
    return Store(std::move(dir), std::move(*directory));
}

StoreResult<User> Store::add_user(std::string_view address, const Secret<std::string>& password) {
    auto user = directory_.add_user(address, password);
    if (!user) return user;
    auto index = open_index(*user);
    if (!index) {
        if (auto st = directory_.delete_user(user->address()); !st) {
            log::error("add_user_undo_failed")
                .kv("user", user->address())
                .kv("detail", st.error().detail);
        }
        return fail(index.error());
    }
    return user;
}

StoreResult<UserPaths> Store::paths_of(const User& user) const {
    return data_dir_.user(user.domain, user.local);
}

StoreResult<MailboxIndex> Store::open_index(const User& user) {
    auto paths = paths_of(user);
    if (!paths) return fail(paths.error());
    return MailboxIndex::open(*paths);
}

StoreResult<Recipient> Store::recipient(const User& user, std::string_view mailbox, Flags flags) {
    auto paths = paths_of(user);
    if (!paths) return fail(paths.error());
    auto name = validate_mailbox_name(mailbox);
    if (!name) return fail(name.error());
    return Recipient{*paths, *name, flags, user.quota.bytes, user.quota.messages};
}

StoreResult<MessageWriter> Store::begin_delivery(std::vector<Recipient> recipients,
                                                 DeliveryOptions options) {
    return MessageWriter::begin(std::move(recipients), options);
}

StoreResult<ReindexStats> Store::reindex_user(const User& user, const SummaryFunction& summary) {
    auto paths = paths_of(user);
    if (!paths) return fail(paths.error());
    return reindex(*paths, summary);
}

}  // namespace postern::store
