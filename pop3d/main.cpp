// pop3d: POP3 (RFC 1939) on listen.pop3 with STLS and on listen.pop3s with
// implicit TLS. Everything that is not POP3 is the daemon skeleton's job.
#include <memory>

#include "common/daemon/daemon.h"
#include "pop3d/pop3_service.h"

int main(int argc, char** argv) {
    using namespace postern;
    daemon::ServiceSpec spec;
    spec.name = "pop3d";
    spec.needs_tls = true;
    spec.listeners = pop3::listener_plans;
    spec.make_service = [] { return std::make_unique<pop3::Pop3Service>(); };
    return daemon::run(argc, argv, spec);
}
