// pop3d: POP3 (RFC 1939) on listen.pop3 with STLS and on listen.pop3s with
// implicit TLS. Everything that is not POP3 is the daemon skeleton's job.
#include <cstdlib>
#include <memory>

#include "common/daemon/daemon.h"
#include "pop3d/pop3_limits.h"
#include "pop3d/pop3_service.h"

int main(int argc, char** argv) {
    using namespace postern;
    // Pool jobs block on the disk: logins read the index, RETR reads files,
    // and QUIT unlinks every deleted file (on a filesystem mounted with
    // `discard` each unlink waits for the device). With libuv's default of 4
    // threads, ten users quitting at once would wait for each other; an
    // explicit UV_THREADPOOL_SIZE in the environment wins.
    ::setenv("UV_THREADPOOL_SIZE", pop3::kPoolThreads, 0);
    daemon::ServiceSpec spec;
    spec.name = "pop3d";
    spec.needs_tls = true;
    spec.listeners = pop3::listener_plans;
    spec.make_service = [] { return std::make_unique<pop3::Pop3Service>(); };
    return daemon::run(argc, argv, spec);
}
