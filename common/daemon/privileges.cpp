#include "common/daemon/privileges.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "common/base/sysexits.h"

namespace postern::daemon {
namespace {

// Buffer for getpwnam_r/getgrnam_r when sysconf() has no answer; doubled on
// ERANGE up to kMaxLookupBuffer (groups with many members need more).
constexpr std::size_t kLookupBuffer = 16u << 10;
constexpr std::size_t kMaxLookupBuffer = 1u << 20;

PrivilegeError os_error(std::string what, int err) {
    return {kExOsErr, std::move(what) + ": " + std::strerror(err)};
}

struct Account {
    bool found = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

// getpwnam_r/getgrnam_r with a growing buffer; `call` returns the errno-style
// code of the _r function and sets found.
template <typename Call>
Result<Account, PrivilegeError> lookup(const std::string& what, Call call) {
    std::vector<char> buf(kLookupBuffer);
    for (;;) {
        Account account;
        int rc = call(buf, account);
        if (rc == ERANGE && buf.size() < kMaxLookupBuffer) {
            buf.resize(buf.size() * 2);
            continue;
        }
        // Not found is reported as 0 (or ENOENT/ESRCH by some libcs).
        if (rc != 0 && rc != ENOENT && rc != ESRCH) return fail(os_error(what, rc));
        return account;
    }
}

Result<Account, PrivilegeError> lookup_user(const std::string& name) {
    return lookup("getpwnam_r " + name, [&](std::vector<char>& buf, Account& out) {
        passwd pw{};
        passwd* result = nullptr;
        int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
        if (rc == 0 && result != nullptr) out = {true, pw.pw_uid, pw.pw_gid};
        return rc;
    });
}

Result<Account, PrivilegeError> lookup_group(const std::string& name) {
    return lookup("getgrnam_r " + name, [&](std::vector<char>& buf, Account& out) {
        group gr{};
        group* result = nullptr;
        int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result);
        if (rc == 0 && result != nullptr) out = {true, 0, gr.gr_gid};
        return rc;
    });
}

// For log lines: the group's name, or its number when it has none.
std::string group_name(gid_t gid) {
    std::vector<char> buf(kLookupBuffer);
    group gr{};
    group* result = nullptr;
    if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &result) == 0 && result != nullptr)
        return gr.gr_name;
    return std::to_string(gid);
}

PrivilegeError verify_failed(const PrivilegeTarget& t, const std::string& what) {
    return {kExOsErr, "privilege drop to " + t.user + ":" + t.group + " did not hold: " + what};
}

}  // namespace

Result<std::optional<PrivilegeTarget>, PrivilegeError> plan_privileges(const std::string& user,
                                                                       const std::string& group) {
    if (user.empty()) return std::optional<PrivilegeTarget>{};
    auto pw = lookup_user(user);
    if (!pw) return fail(pw.error());
    if (!pw->found) return fail(PrivilegeError{kExConfig, "user: no such user '" + user + "'"});
    if (pw->uid == 0)
        return fail(PrivilegeError{kExConfig, "user: refusing to switch to '" + user +
                                                  "' (uid 0); leave user empty to keep root"});
    PrivilegeTarget target{pw->uid, pw->gid, user, group.empty() ? group_name(pw->gid) : group};
    if (!group.empty()) {
        auto gr = lookup_group(group);
        if (!gr) return fail(gr.error());
        if (!gr->found)
            return fail(PrivilegeError{kExConfig, "group: no such group '" + group + "'"});
        target.gid = gr->gid;
    }
    if (::geteuid() != 0) {
        // Without root we cannot switch; running as the target already is fine.
        if (::geteuid() == target.uid && (group.empty() || ::getegid() == target.gid))
            return std::optional<PrivilegeTarget>{};
        return fail(PrivilegeError{kExNoPerm, "user: running as " + effective_user_name() +
                                                  ", not root: cannot switch to '" + user +
                                                  "'; start as root or leave user empty"});
    }
    return std::optional<PrivilegeTarget>{std::move(target)};
}

Result<void, PrivilegeError> drop_privileges(const PrivilegeTarget& t) {
    // Supplementary groups first: after setuid we could no longer clear them.
    if (::setgroups(1, &t.gid) != 0) return fail(os_error("setgroups " + t.group, errno));
    if (::setgid(t.gid) != 0) return fail(os_error("setgid " + t.group, errno));
    if (::setuid(t.uid) != 0) return fail(os_error("setuid " + t.user, errno));

    if (::getuid() != t.uid || ::geteuid() != t.uid)
        return fail(verify_failed(t, "uid/euid not the target"));
    if (::getgid() != t.gid || ::getegid() != t.gid)
        return fail(verify_failed(t, "gid/egid not the target"));
    gid_t groups[2] = {};
    int n = ::getgroups(2, groups);
    if (n < 0 || n > 1 || (n == 1 && groups[0] != t.gid))
        return fail(verify_failed(t, "supplementary groups remain"));
    // The proof: root must be out of reach for good.
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return fail(verify_failed(t, "setuid(0) succeeded"));
    if (::setgid(0) == 0 && t.gid != 0) return fail(verify_failed(t, "setgid(0) succeeded"));
    return {};
}

std::string effective_user_name() {
    uid_t uid = ::geteuid();
    std::vector<char> buf(kLookupBuffer);
    passwd pw{};
    passwd* result = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr)
        return pw.pw_name;
    return std::to_string(uid);
}

}  // namespace postern::daemon
