// The privilege drop: done in a forked child, since it cannot be undone.
#include <doctest/doctest.h>

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/base/sysexits.h"
#include "common/daemon/privileges.h"

namespace postern::daemon {
namespace {

// Child exit codes: which check failed.
enum ChildResult : int {
    kOk = 0,
    kPlanFailed = 10,
    kNoTarget,
    kDropFailed,
    kWrongUid,
    kWrongGid,
    kRootRegained,
    kGroupsLeft,
    kSwitchNotRefused,
};

const char* describe(int code) {
    switch (code) {
        case kOk:
            return "ok";
        case kPlanFailed:
            return "plan_privileges failed";
        case kNoTarget:
            return "plan_privileges gave no target";
        case kDropFailed:
            return "drop_privileges failed";
        case kWrongUid:
            return "uid/euid are not nobody's";
        case kWrongGid:
            return "gid/egid are not nobody's primary group";
        case kRootRegained:
            return "setuid(0) succeeded after the drop";
        case kGroupsLeft:
            return "supplementary groups remain";
        case kSwitchNotRefused:
            return "switching to another user without root was not refused (77)";
        default:
            return "child crashed or timed out";
    }
}

int drop_to_nobody_in_child() {
    ::alarm(10);
    ::setgroups(0, nullptr);  // start from a known state; the drop must set them
    passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr) return kPlanFailed;
    uid_t want_uid = pw->pw_uid;
    gid_t want_gid = pw->pw_gid;
    auto target = plan_privileges("nobody", "");
    if (!target) return kPlanFailed;
    if (!*target) return kNoTarget;
    if (!drop_privileges(**target)) return kDropFailed;
    if (::getuid() != want_uid || ::geteuid() != want_uid) return kWrongUid;
    if (::getgid() != want_gid || ::getegid() != want_gid) return kWrongGid;
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return kRootRegained;
    gid_t groups[4] = {};
    int n = ::getgroups(4, groups);
    if (n != 1 || groups[0] != want_gid) return kGroupsLeft;
    // Now unprivileged: another user must be refused with EX_NOPERM.
    auto again = plan_privileges("root", "");
    auto other = plan_privileges("daemon", "");
    if (other || other.error().exit_code != kExNoPerm) return kSwitchNotRefused;
    (void)again;
    return kOk;
}

TEST_CASE("drop_privileges: root becomes nobody for good") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root");
        return;
    }
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(drop_to_nobody_in_child());
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    CHECK_MESSAGE(code == kOk, "child got ", code, " (", describe(code), "), want 0");
}

TEST_CASE("plan_privileges: unknown user or group is a config error naming it") {
    auto user = plan_privileges("postern-no-such-user", "");
    REQUIRE_FALSE(user.ok());
    CHECK(user.error().exit_code == kExConfig);
    CHECK_MESSAGE(user.error().message.find("postern-no-such-user") != std::string::npos,
                  user.error().message);
    CHECK(user.error().message.starts_with("user: "));

    auto group = plan_privileges("nobody", "postern-no-such-group");
    REQUIRE_FALSE(group.ok());
    CHECK(group.error().exit_code == kExConfig);
    CHECK_MESSAGE(group.error().message.find("postern-no-such-group") != std::string::npos,
                  group.error().message);
}

TEST_CASE("plan_privileges: empty user means no drop; root is refused as a target") {
    auto none = plan_privileges("", "");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    auto root = plan_privileges("root", "");
    REQUIRE_FALSE(root.ok());
    CHECK(root.error().exit_code == kExConfig);
}

TEST_CASE("plan_privileges: the current user needs no drop when not root") {
    if (::geteuid() == 0) {
        MESSAGE("skipped: covered as nobody inside the drop test");
        return;
    }
    auto same = plan_privileges(effective_user_name(), "");
    REQUIRE(same.ok());
    CHECK_FALSE(same->has_value());
    std::string someone_else = effective_user_name() == "nobody" ? "daemon" : "nobody";
    auto other = plan_privileges(someone_else, "");
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().exit_code == kExNoPerm);
}

}  // namespace
}  // namespace postern::daemon
