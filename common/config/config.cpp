// Loading: parse the text, reject unknown keys, then walk the schema table
// and fill Config from each key's value or default. Cross-key rules that one
// row cannot express are checked last, in check_relations().
#include "common/config/config.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/config/schema.h"

namespace postern::config {
namespace {

using nlohmann::json;

// sizeof(sockaddr_un::sun_path) on Linux is 108, one byte of it the NUL.
constexpr std::size_t kMaxUnixSocketPathBytes = 107;

// nlohmann's message, minus its "[json.exception...] parse error at line L,
// column C: " prefix, which we replace with our own position.
std::string syntax_message(std::string_view text, const json::parse_error& e) {
    const std::size_t end = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    std::string what = e.what();
    const auto pos = what.find("syntax error");
    if (pos != std::string::npos) what = what.substr(pos);
    return "line " + std::to_string(line) + ", column " + std::to_string(column) +
           ": invalid JSON: " + what;
}

// nlohmann keeps the last of two equal keys without a word; in a config file
// that is almost always an edit gone wrong, so it is an error here.
class DuplicateKeys {
  public:
    bool on_event(json::parse_event_t event, const json& parsed) {
        using E = json::parse_event_t;
        if (event == E::object_start || event == E::array_start) {
            frames_.push_back(Frame{.is_object = event == E::object_start});
        } else if ((event == E::object_end || event == E::array_end) && !frames_.empty()) {
            frames_.pop_back();
        } else if (event == E::key && !frames_.empty() && parsed.is_string()) {
            Frame& top = frames_.back();
            top.current = parsed.get<std::string>();
            if (!top.seen.insert(top.current).second) errors_.push_back(path() + ": given twice");
        }
        return true;
    }
    const std::vector<std::string>& errors() const { return errors_; }

  private:
    struct Frame {
        bool is_object = false;
        std::set<std::string> seen = {};
        std::string current = {};
    };
    std::string path() const {
        std::string out;
        for (const Frame& f : frames_)
            if (f.is_object) out += (out.empty() ? "" : ".") + f.current;
        return out;
    }
    std::vector<Frame> frames_;
    std::vector<std::string> errors_;
};

const json* lookup(const json& doc, std::string_view key) {
    const std::string section(section_of(key));
    const json* scope = &doc;
    if (!section.empty()) {
        const auto it = doc.find(section);
        if (it == doc.end() || !it->is_object()) return nullptr;
        scope = &*it;
    }
    const auto it = scope->find(std::string(name_of(key)));
    return it == scope->end() ? nullptr : &*it;
}

void fill(const json& doc, const std::filesystem::path& base_dir, Config& config,
          std::vector<std::string>& errors) {
    for (const Field& f : fields()) {
        const json* given = lookup(doc, f.bind.key);
        const json fallback = given == nullptr ? json::parse(f.default_json) : json();
        auto value = convert(f, given != nullptr ? *given : fallback, base_dir);
        if (!value) {
            const std::string& m = value.error().message;
            errors.push_back(std::string(f.bind.key) + (m.front() == '[' ? "" : ": ") + m +
                             (given == nullptr ? " (the default)" : ""));
            continue;
        }
        f.bind.set(config, *value);
    }
}

void default_hostname(Config& config, std::vector<std::string>& errors) {
    if (!config.hostname.empty()) return;
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !is_dns_name(name)) {
        errors.push_back(std::string("hostname: not set, and the machine's hostname \"") + name +
                         "\" is not a domain name; set hostname");
        return;
    }
    config.hostname = name;
}

// Two services on one endpoint would fail at bind(2) with a less helpful
// message. Overlaps such as 0.0.0.0:25 and 127.0.0.1:25 are left to bind(2).
void check_listen_overlap(const Config& c, std::vector<std::string>& errors) {
    const std::pair<const char*, const std::vector<Endpoint>*> lists[] = {
        {"smtp", &c.listen.smtp},
        {"submission", &c.listen.submission},
        {"submissions", &c.listen.submissions},
        {"imap", &c.listen.imap},
        {"imaps", &c.listen.imaps},
        {"pop3", &c.listen.pop3},
        {"pop3s", &c.listen.pop3s}};
    std::map<std::string, std::string> owner;  // "host:port" -> "listen.smtp[0]"
    for (const auto& [name, list] : lists) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string where = "listen." + std::string(name) + "[" + std::to_string(i) + "]";
            const auto [it, fresh] = owner.emplace((*list)[i].to_string(), where);
            if (!fresh)
                errors.push_back(where + ": " + it->first + " is already used by " + it->second);
        }
    }
}

void check_relations(const Config& c, std::vector<std::string>& errors) {
    check_listen_overlap(c, errors);
    if (c.listen.lmtp.native().size() > kMaxUnixSocketPathBytes)
        errors.push_back("listen.lmtp: unix socket path is " +
                         std::to_string(c.listen.lmtp.native().size()) + " bytes once resolved (" +
                         c.listen.lmtp.string() + "), the limit is 107");
    if (c.queue.retry_min_seconds > c.queue.retry_max_seconds)
        errors.push_back("queue.retry_max_seconds: must be at least queue.retry_min_seconds (" +
                         std::to_string(c.queue.retry_min_seconds) + "), got " +
                         std::to_string(c.queue.retry_max_seconds));
    if (c.imap.max_nonsync_literal_bytes > c.imap.max_literal_bytes)
        errors.push_back(
            "imap.max_nonsync_literal_bytes: must be at most imap.max_literal_bytes (" +
            std::to_string(c.imap.max_literal_bytes) + "), got " +
            std::to_string(c.imap.max_nonsync_literal_bytes));
    if (!c.queue.relayhost_user.empty() && !c.queue.relayhost)
        errors.push_back("queue.relayhost_user: set, but queue.relayhost is empty");
    if (!c.queue.relayhost_user.empty() && c.queue.relayhost_password_file.empty())
        errors.push_back(
            "queue.relayhost_password_file: required when queue.relayhost_user is set");
}

std::string join_lines(const std::vector<std::string>& lines, std::string_view prefix) {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) out += '\n';
        out += prefix;
        out += line;
    }
    return out;
}

}  // namespace

Result<Config> load_text(std::string_view text, const std::filesystem::path& base_dir) {
    json doc;
    DuplicateKeys duplicates;
    const json::parser_callback_t on_event = [&duplicates](int, json::parse_event_t event,
                                                           json& parsed) {
        return duplicates.on_event(event, parsed);
    };
    try {
        doc = json::parse(text, on_event, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        return fail(syntax_message(text, e));
    } catch (const json::exception& e) {
        return fail(std::string("invalid JSON: ") + e.what());
    }
    if (!doc.is_object())
        return fail(std::string("the file must hold one JSON object, got ") + doc.type_name());

    std::vector<std::string> errors = duplicates.errors();
    find_unknown_keys(doc, errors);
    Config config;
    fill(doc, base_dir, config, errors);
    if (errors.empty()) default_hostname(config, errors);
    if (errors.empty()) check_relations(config, errors);
    if (!errors.empty()) return fail(join_lines(errors, ""));
    return config;
}

Result<Config> load_file(const std::filesystem::path& file) {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(file, ec).lexically_normal();
    if (ec) return fail(file.string() + ": " + ec.message());
    std::ifstream in(absolute, std::ios::binary);
    if (!in) return fail(absolute.string() + ": cannot open: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail(absolute.string() + ": cannot read: " + std::strerror(errno));

    auto config = load_text(text.str(), absolute.parent_path());
    if (!config) {
        std::istringstream lines(config.error().message);
        std::vector<std::string> each;
        for (std::string line; std::getline(lines, line);)
            each.push_back(line);
        return fail(join_lines(each, absolute.string() + ": "));
    }
    config->config_file = absolute;
    return config;
}

Result<ConfigArgs> find_config_path(const std::vector<std::string>& args, const char* env_value) {
    ConfigArgs out;
    bool given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            out.rest.insert(out.rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i),
                            args.end());
            break;
        }
        std::string value;
        if (a == "-c" || a == "--config") {
            if (i + 1 >= args.size()) return fail(a + ": missing FILE");
            value = args[++i];
        } else if (a.starts_with("--config=")) {
            value = a.substr(9);
        } else if (a.starts_with("-c") && a.size() > 2) {
            value = a.substr(2);
        } else {
            out.rest.push_back(a);
            continue;
        }
        if (given) return fail("-c: the config file is given twice");
        if (value.empty()) return fail(a + ": empty FILE");
        out.path = value;
        given = true;
    }
    if (!given)
        out.path = env_value != nullptr && *env_value != '\0' ? env_value : kDefaultConfigPath;
    return out;
}

Result<ConfigArgs> resolve_config_path(int argc, const char* const* argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i)
        args.emplace_back(argv[i]);
    return find_config_path(args, std::getenv(kConfigEnvVar));
}

}  // namespace postern::config
