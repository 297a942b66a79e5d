// imapd: the IMAP server. Everything that is not IMAP (config, TLS keys,
// binding, privilege drop, signals) is the daemon skeleton's job; this file
// only names the service.
#include <cstdlib>
#include <memory>

#include "common/daemon/daemon.h"
#include "imapd/imap_limits.h"
#include "imapd/imap_service.h"

int main(int argc, char** argv) {
    // Every command's disk work is a pool job, and STORE, APPEND, COPY and
    // EXPUNGE hold their thread through fsyncs: libuv's default of 4 threads
    // would make twenty busy clients queue behind four of them. An explicit
    // UV_THREADPOOL_SIZE in the environment wins.
    ::setenv("UV_THREADPOOL_SIZE", postern::imap::kPoolThreads, 0);
    postern::daemon::ServiceSpec spec{
        .name = "imapd",
        .needs_tls = true,
        .listeners = postern::imap::imap_listeners,
        .make_service = [] { return std::make_unique<postern::imap::ImapService>(); },
    };
    return postern::daemon::run(argc, argv, spec);
}
