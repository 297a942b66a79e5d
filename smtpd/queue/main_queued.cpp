// queued: the outbound queue runner. submissiond puts messages for other
// domains into the spool (paths.queue_dir); queued delivers them to each
// domain's MX (or the relayhost), hands local recipients to mda, retries
// with backoff and bounces what cannot be delivered (delivery_job.h,
// queue_runner.h). It listens on no port. Usage: queued [-c FILE]
#include <cstdlib>
#include <fstream>
#include <memory>

#include "common/daemon/daemon.h"
#include "common/log/log.h"
#include "smtpd/queue/queue_runner.h"
#include "storage/data_dir.h"
#include "storage/queue_spool.h"

namespace postern::queue {
namespace {

// The pool runs the delivery jobs (each blocks on the network for up to the
// RFC 5321 timeouts) plus spool scans: kMaxJobs plus room for the scans.
// An explicit UV_THREADPOOL_SIZE in the environment wins.
constexpr const char* kPoolThreads = "12";

Result<std::string> read_password(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line))
        return fail("queue.relayhost_password_file: cannot read " + file.string());
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

Result<JobSettings> settings_from(const config::Config& cfg) {
    JobSettings s;
    s.queue_dir = cfg.paths.queue_dir;
    s.directory_db = store::DataDir(cfg.paths.data_dir).directory_db();
    s.lmtp_socket = cfg.listen.lmtp;
    s.hostname = cfg.hostname;
    s.lifetime_seconds = static_cast<std::int64_t>(cfg.queue.lifetime_seconds);
    s.retry_min_seconds = static_cast<std::int64_t>(cfg.queue.retry_min_seconds);
    s.retry_max_seconds = static_cast<std::int64_t>(
        std::max(cfg.queue.retry_max_seconds, cfg.queue.retry_min_seconds));
    s.remote.port = static_cast<std::uint16_t>(cfg.queue.remote_port);
    s.remote.helo_name = cfg.hostname;
    if (cfg.queue.nameserver)
        s.remote.dns.nameserver =
            dns::ResolverConfig::Server{cfg.queue.nameserver->host, cfg.queue.nameserver->port};
    if (cfg.queue.relayhost) {
        Relayhost relay{
            cfg.queue.relayhost->host, cfg.queue.relayhost->port, cfg.queue.relayhost_user, {}, {}};
        if (!relay.user.empty()) {
            auto password = read_password(cfg.queue.relayhost_password_file);
            if (!password) return fail(password.error().message);
            relay.password = std::move(*password);
        }
        s.remote.relayhost = std::move(relay);
    }
    return s;
}

class QueueService : public daemon::Service {
  public:
    Status start(daemon::Runtime& runtime) override {
        auto settings = settings_from(runtime.config);
        if (!settings) return fail(settings.error().message);
        auto spool = store::QueueSpool::open(runtime.config.paths.queue_dir);
        if (!spool) return fail(spool.error().message);
        runner_ = std::make_unique<QueueRunner>(runtime.loop, std::move(*settings));
        return runner_->start(spool->envelope_dir());
    }
    net::SessionFactory session_factory(daemon::Runtime&, const daemon::ListenerPlan&) override {
        return {};  // no listeners
    }

  private:
    std::unique_ptr<QueueRunner> runner_;
};

}  // namespace
}  // namespace postern::queue

int main(int argc, char** argv) {
    using namespace postern;
    ::setenv("UV_THREADPOOL_SIZE", queue::kPoolThreads, 0);
    daemon::ServiceSpec spec{
        .name = "queued",
        .needs_tls = false,
        .listeners = [](const config::Config&) { return std::vector<daemon::ListenerPlan>{}; },
        .needs_listener = false,
        .make_service = [] { return std::make_unique<queue::QueueService>(); }};
    return daemon::run(argc, argv, spec);
}
