// See queue_access.h.
#include "tools/mailctl/queue_access.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "tools/mailctl/output.h"

namespace postern::mailctl {

namespace fs = std::filesystem;
using store::QueueSpool;

int open_queue(const Context& ctx, std::optional<QueueSpool>& spool) {
    auto cfg = config::load_file(ctx.config_path);
    if (!cfg) return complain(kExConfig, cfg.error().message);
    const auto dir = cfg->paths.queue_dir;
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT) return kExOk;
        return complain(kExTempFail, "cannot read the queue directory " + dir.string());
    }
    if (::geteuid() == 0 && st.st_uid != 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(st.st_gid) != 0 || ::setuid(st.st_uid) != 0)
            return complain(kExOsErr, "cannot act as the owner of " + dir.string());
    }
    auto opened = QueueSpool::open(dir);
    if (!opened) return complain(kExTempFail, opened.error().message);
    spool.emplace(std::move(*opened));
    return kExOk;
}

bool message_exists(const QueueSpool& spool, const std::string& id) {
    std::error_code ec;
    return QueueSpool::valid_id(id) && fs::exists(spool.envelope_dir() / id, ec);
}

int check_id(const std::optional<QueueSpool>& spool, const std::string& id) {
    if (!QueueSpool::valid_id(id)) return complain(kExDataErr, "not a queue id: \"" + id + "\"");
    if (!spool || !message_exists(*spool, id))
        return complain(kExNoInput, "no such message in the queue: " + id);
    return kExOk;
}

int load_failed(const QueueSpool& spool, const std::string& id, const Error& e) {
    if (!message_exists(spool, id))
        return complain(kExNoInput, "no such message in the queue: " + id);
    return complain(kExDataErr, e.message);
}

}  // namespace postern::mailctl
