// imapd: the IMAP server. Everything that is not IMAP (config, TLS keys,
// binding, privilege drop, signals) is the daemon skeleton's job; this file
// only names the service.
#include <memory>

#include "common/daemon/daemon.h"
#include "imapd/imap_service.h"

int main(int argc, char** argv) {
    postern::daemon::ServiceSpec spec{
        .name = "imapd",
        .needs_tls = true,
        .listeners = postern::imap::imap_listeners,
        .make_service = [] { return std::make_unique<postern::imap::ImapService>(); },
    };
    return postern::daemon::run(argc, argv, spec);
}
