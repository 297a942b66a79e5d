#include "storage/maildir.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace postern::store {
namespace {

constexpr std::string_view kFlagLetters = "DFPRST";

std::string safe_host_name() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
    std::string out;
    for (const char* p = host; *p != '\0'; ++p) {
        if (*p == '/') {
            out += "\\057";
        } else if (*p == ':') {
            out += "\\072";
        } else if (*p == ',') {
            out += "\\054";
        } else {
            out += *p;
        }
    }
    return out;
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

}  // namespace

std::string flags_to_letters(Flags flags) {
    std::string out;
    for (std::size_t i = 0; i < kFlagLetters.size(); ++i) {
        if (flags & (1u << i)) out += kFlagLetters[i];
    }
    return out;
}

Flags flags_from_letters(std::string_view letters) {
    Flags flags = 0;
    for (char c : letters) {
        std::size_t i = kFlagLetters.find(c);
        if (i != std::string_view::npos) flags |= 1u << i;
    }
    return flags;
}

std::string unique_base_name() {
    static std::atomic<std::uint64_t> counter{0};
    static const std::string host = safe_host_name();
    struct timeval tv {};
    gettimeofday(&tv, nullptr);
    std::uint64_t random = 0;
    randombytes_buf(&random, sizeof random);
    char buf[128];
    std::snprintf(buf, sizeof buf, "%lld.M%06ldP%ldQ%lluR%016llx.",
                  static_cast<long long>(tv.tv_sec), static_cast<long>(tv.tv_usec),
                  static_cast<long>(getpid()),
                  static_cast<unsigned long long>(counter.fetch_add(1) + 1),
                  static_cast<unsigned long long>(random));
    return buf + host;
}

std::string delivery_name(std::string_view base, std::uint64_t size, std::uint32_t uid) {
    return std::string(base) + ",S=" + std::to_string(size) + ",U=" + std::to_string(uid);
}

std::string cur_name(std::string_view base, std::uint64_t size, std::uint32_t uid, Flags flags) {
    return delivery_name(base, size, uid) + ":2," + flags_to_letters(flags);
}

MaildirName parse_maildir_name(std::string_view file_name) {
    MaildirName out;
    std::string_view rest = file_name;
    if (std::size_t colon = rest.find(":2,"); colon != std::string_view::npos) {
        out.flags = flags_from_letters(rest.substr(colon + 3));
        out.has_info = true;
        rest = rest.substr(0, colon);
    }
    // The base ends at the first ',' (the host has ',' escaped); after it come
    // key=value fields, of which we know S and U and keep nothing else.
    std::size_t comma = rest.find(',');
    out.base = std::string(rest.substr(0, comma));
    while (comma != std::string_view::npos) {
        std::size_t next = rest.find(',', comma + 1);
        std::string_view field = rest.substr(
            comma + 1, next == std::string_view::npos ? std::string_view::npos : next - comma - 1);
        if (field.starts_with("S=")) {
            out.size = parse_number(field.substr(2));
        } else if (field.starts_with("U=")) {
            auto uid = parse_number(field.substr(2));
            if (uid && *uid > 0 && *uid <= UINT32_MAX) out.uid = static_cast<std::uint32_t>(*uid);
        }
        comma = next;
    }
    return out;
}

std::string with_flags(std::string_view file_name, Flags flags) {
    std::string_view stem = file_name.substr(0, file_name.find(":2,"));
    return std::string(stem) + ":2," + flags_to_letters(flags);
}

StoreStatus create_maildir(const std::filesystem::path& dir, bool is_subfolder) {
    for (const auto& p : {dir, dir / "tmp", dir / "new", dir / "cur"}) {
        if (mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) {
            return fail(errno_failure("mkdir " + p.string(), errno));
        }
    }
    if (is_subfolder) {
        auto marker = dir / "maildirfolder";
        int fd = open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) return fail(errno_failure("create " + marker.string(), errno));
        close(fd);
    }
    return {};
}

StoreResult<std::size_t> remove_stale_tmp(const std::filesystem::path& dir,
                                          std::chrono::seconds max_age) {
    auto tmp = dir / "tmp";
    std::size_t removed = 0;
    std::time_t cutoff = std::time(nullptr) - static_cast<std::time_t>(max_age.count());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (st.st_mtime >= cutoff) continue;
        if (::unlink(entry.path().c_str()) == 0) ++removed;
    }
    if (ec) return fail(errno_failure("scan " + tmp.string(), ec.value()));
    return removed;
}

StoreStatus fsync_dir(const std::filesystem::path& dir) {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure("open dir " + dir.string(), errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0) return fail(errno_failure("fsync dir " + dir.string(), err));
    return {};
}

}  // namespace postern::store
