// mda: local delivery. `mda --lmtp` serves LMTP on config listen.lmtp (the
// daemon skeleton does config, binding, privileges and signals); anything
// else is pipe mode (pipe_mode.h).
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/daemon/daemon.h"
#include "mda/delivery_backend.h"
#include "mda/lmtp_session.h"
#include "mda/pipe_mode.h"

namespace postern::mda {
namespace {

class LmtpService final : public daemon::Service {
  public:
    Status start(daemon::Runtime& rt) override {
        const auto& cfg = rt.config;
        settings_ = LmtpSettings{cfg.hostname, cfg.smtp.max_message_bytes,
                                 static_cast<std::size_t>(cfg.smtp.max_recipients)};
        backend_ =
            std::make_shared<StoreBackend>(cfg.paths.data_dir, DeliverySettings::from_config(cfg));
        return {};
    }
    net::SessionFactory session_factory(daemon::Runtime&, const daemon::ListenerPlan&) override {
        return [this](net::SessionInit init) {
            return std::make_unique<LmtpSession>(std::move(init), settings_, backend_);
        };
    }

  private:
    LmtpSettings settings_;
    std::shared_ptr<DeliveryBackend> backend_;
};

// Deliveries spend most of their time waiting on fsync, not on the CPU, and
// concurrent fsyncs share one ext4/xfs journal commit; libuv's default pool
// of 4 threads would cap mda at 4 deliveries in flight. 16 matches the
// concurrency smtpd and submissiond use towards LMTP with room to spare.
// An explicit UV_THREADPOOL_SIZE in the environment wins.
constexpr const char* kDeliveryThreads = "16";

std::vector<daemon::ListenerPlan> lmtp_listeners(const config::Config& cfg) {
    daemon::ListenerPlan plan;
    plan.name = "lmtp";
    plan.addresses = {"unix:" + cfg.listen.lmtp.string()};
    plan.limits = daemon::limits_from(cfg, cfg.smtp.max_line_bytes, cfg.smtp.idle_timeout_seconds,
                                      cfg.smtp.max_bad_commands);
    // Every LMTP client is local and has the same "address": only the
    // total cap makes sense here.
    plan.limits.max_connections_per_ip = plan.limits.max_connections_total;
    plan.refusal_line = "421 4.7.0 Too many connections\r\n";
    plan.shutdown_line = "421 4.3.2 Shutting down";
    return {plan};
}

}  // namespace
}  // namespace postern::mda

int main(int argc, char** argv) {
    using namespace postern;
    for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        if (std::strcmp(argv[i], "--lmtp") == 0) {
            ::setenv("UV_THREADPOOL_SIZE", mda::kDeliveryThreads, 0);
            daemon::ServiceSpec spec{
                .name = "mda",
                .needs_tls = false,
                .listeners = mda::lmtp_listeners,
                .make_service = [] { return std::make_unique<mda::LmtpService>(); }};
            return daemon::run(argc, argv, spec);
        }
    }
    return mda::run_pipe_mode(argc, argv);
}
