// `mailctl init DIR`: a complete, self-contained instance in DIR: the config
// file, the data, queue and run directories, a self-signed certificate and
// the first domain. Every service listens on 127.0.0.1 at port-base + its
// standard port. It is as strict as production: passwords only over TLS.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "common/tls/self_signed.h"
#include "storage/store.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"

namespace postern::mailctl {
namespace {

namespace fs = std::filesystem;

// The default port base puts SMTP at 10025, IMAP at 10143 and so on: above
// 1024 so that no root is needed, and easy to read.
constexpr unsigned kDefaultPortBase = 10000;
constexpr unsigned kMaxPortBase = 65535 - 995;

nlohmann::json listen_overrides(unsigned base) {
    const auto at = [base](unsigned port) {
        return nlohmann::json::array({"127.0.0.1:" + std::to_string(base + port)});
    };
    return {{"smtp", at(25)},   {"submission", at(587)},  {"submissions", at(465)},
            {"imap", at(143)},  {"imaps", at(993)},       {"pop3", at(110)},
            {"pop3s", at(995)}, {"lmtp", "run/lmtp.sock"}};
}

Result<unsigned> parse_port_base(const std::optional<std::string>& text) {
    if (!text) return kDefaultPortBase;
    char* end = nullptr;
    const unsigned long v = std::strtoul(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || v > kMaxPortBase)
        return fail("--port-base must be a number from 0 to " + std::to_string(kMaxPortBase));
    return static_cast<unsigned>(v);
}

Status write_file_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out.flush()) return fail("cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return fail("cannot rename " + tmp.string() + ": " + ec.message());
    return {};
}

Status create_instance(const fs::path& dir, const std::string& domain, const std::string& hostname,
                       unsigned port_base) {
    std::error_code ec;
    for (const char* sub : {"data", "queue", "run", "tls"}) {
        fs::create_directories(dir / sub, ec);
        if (ec) return fail("cannot create " + (dir / sub).string() + ": " + ec.message());
    }
    ::chmod((dir / "data").c_str(), 0700);
    ::chmod((dir / "tls").c_str(), 0700);
    const nlohmann::json overrides = {
        {"hostname", hostname},
        {"paths", {{"data_dir", "data"}, {"queue_dir", "queue"}, {"run_dir", "run"}}},
        {"tls", {{"cert_file", "tls/cert.pem"}, {"key_file", "tls/key.pem"}}},
        {"listen", listen_overrides(port_base)},
    };
    auto text = config::render_config(overrides);
    if (!text) return fail(text.error().message);
    tls::SelfSignedSpec cert{.host = hostname, .loopback_ips = true};
    if (auto st = tls::write_self_signed(cert, (dir / "tls/cert.pem").string(),
                                         (dir / "tls/key.pem").string());
        !st)
        return st;
    auto st = store::Store::open(dir / "data");
    if (!st) return fail(st.error().detail);
    auto& directory = st->directory();
    if (auto added = directory.add_domain(domain); !added) return fail(added.error().detail);
    // The config is written last: an instance with a config file is complete.
    return write_file_atomically(dir / "postern.json", *text);
}

}  // namespace

int cmd_init(const Context&, const Words& words) {
    auto args = Args::parse(words, {"--domain", "--hostname", "--port-base"}, {});
    if (!args) return complain(kExUsage, args.error().message);
    if (args->positional().size() != 1)
        return complain(kExUsage,
                        "usage: mailctl init DIR [--domain D] [--hostname H] [--port-base N]");
    const fs::path dir = fs::absolute(args->positional()[0]);
    auto base = parse_port_base(args->value("--port-base"));
    if (!base) return complain(kExUsage, base.error().message);
    const std::string domain = args->value("--domain").value_or("example.test");
    const std::string hostname = args->value("--hostname").value_or("localhost");

    std::error_code ec;
    if (fs::exists(dir / "postern.json", ec))
        return complain(kExCantCreate,
                        (dir / "postern.json").string() + " already exists; not overwriting");
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
        return complain(kExCantCreate, dir.string() + " exists and is not empty");
    const bool created_dir = !fs::exists(dir, ec);
    if (auto st = create_instance(dir, domain, hostname, *base); !st) {
        // A failed init leaves nothing behind.
        if (created_dir)
            fs::remove_all(dir, ec);
        else
            for (const auto& entry : fs::directory_iterator(dir, ec))
                fs::remove_all(entry.path(), ec);
        return complain(kExCantCreate, st.error().message);
    }
    std::cout << "created " << (dir / "postern.json").string() << " for domain " << domain << "\n";
    return kExOk;
}

}  // namespace postern::mailctl
