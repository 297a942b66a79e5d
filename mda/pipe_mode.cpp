#include "mda/pipe_mode.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "mda/delivery.h"
#include "mda/trace.h"

namespace postern::mda {
namespace {

struct PipeArgs {
    std::string sender;
    std::vector<std::string> recipients;
};

// [-f SENDER | -fSENDER] [--] RCPT...   (-c was taken out by the config code)
Result<PipeArgs> parse_args(const std::vector<std::string>& args) {
    PipeArgs out;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "-f" && i + 1 < args.size()) {
            out.sender = args[++i];
        } else if (a.starts_with("-f") && a.size() > 2) {
            out.sender = a.substr(2);
        } else if (a.starts_with("-")) {
            return fail("unknown option " + a);
        } else {
            break;
        }
    }
    for (; i < args.size(); ++i)
        out.recipients.push_back(args[i]);
    if (out.recipients.empty()) return fail("no recipient given");
    if (out.sender == "<>") out.sender.clear();
    if (out.sender.size() >= 2 && out.sender.front() == '<' && out.sender.back() == '>') {
        out.sender = out.sender.substr(1, out.sender.size() - 2);
    }
    return out;
}

// Reads stdin; stops one byte past `limit` (the caller refuses that).
Result<std::string> read_stdin(std::uint64_t limit) {
    std::string data;
    char buf[65536];
    while (data.size() <= limit) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::string("read stdin: ") + std::strerror(errno));
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

int report(const std::vector<RecipientResult>& results) {
    int first_permanent = kExOk;
    bool any_temporary = false;
    for (const auto& r : results) {
        auto reply = reply_for(r.outcome.status);
        std::fprintf(stderr, "%s: %s %d %s %s\n", r.recipient.c_str(),
                     status_name(r.outcome.status), reply.code, reply.enhanced.c_str(),
                     reply.lines.empty() ? "" : reply.lines.front().c_str());
        if (is_temporary(r.outcome.status)) any_temporary = true;
        int code = exit_code_for(r.outcome.status);
        if (code != kExOk && first_permanent == kExOk) first_permanent = code;
    }
    return any_temporary ? kExTempFail : first_permanent;
}

}  // namespace

int run_pipe_mode(int argc, char** argv) {
    log::init("mda", log::Level::Info);
    auto where = config::resolve_config_path(argc, argv);
    if (!where) {
        std::fprintf(stderr, "mda: %s\n", where.error().message.c_str());
        return kExUsage;
    }
    auto cfg = config::load_file(where->path);
    if (!cfg) {
        std::fprintf(stderr, "mda: %s\n", cfg.error().message.c_str());
        return kExConfig;
    }
    log::set_level(cfg->log_level);
    auto args = parse_args(where->rest);
    if (!args) {
        std::fprintf(stderr, "mda: %s\nusage: mda -c FILE [-f SENDER] -- RCPT...\n",
                     args.error().message.c_str());
        return kExUsage;
    }
    auto settings = DeliverySettings::from_config(*cfg);
    // Room for an mbox From_ line, which is dropped below.
    constexpr std::uint64_t kFromLineAllowance = 1024;
    auto input = read_stdin(settings.max_message_bytes + kFromLineAllowance);
    if (!input) {
        log::error("read_failed").kv("detail", input.error().message);
        return kExTempFail;
    }
    std::string_view message = strip_mbox_from_line(*input);
    auto store = store::Store::open(cfg->paths.data_dir);
    if (!store) {
        log::error("store_open_failed").kv("detail", store.error().detail);
        return exit_code_for(status_for(store.error().code, settings.over_quota));
    }
    Deliverer deliverer(*store, settings);
    // Deliverer refuses a message over max_message_bytes with TooBig.
    return report(deliverer.deliver(Envelope{args->sender, args->recipients, {}}, message));
}

}  // namespace postern::mda
