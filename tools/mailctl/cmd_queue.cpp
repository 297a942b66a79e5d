// `mailctl queue list|show`: the admin's view of the outbound spool
// (storage/queue_spool.h), and the dispatcher for every `mailctl queue` verb
// (retry and delete: cmd_queue_change.cpp).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "storage/queue_spool.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/output.h"
#include "tools/mailctl/queue_access.h"

namespace postern::mailctl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::QueueSpool;

// `show` prints the header section up to this size: more than any real
// header block (RFC 5322 sets no limit; Postfix's header_size_limit
// default is 100 KiB, ours is a display limit only).
constexpr std::size_t kMaxShownHeaderBytes = 64 << 10;

std::string iso_time(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    struct tm tm {};
    char buf[32];
    if (gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return std::to_string(unix_seconds);
    return buf;
}

std::string next_attempt_text(std::int64_t next_attempt) {
    return next_attempt == 0 ? "now" : iso_time(next_attempt);
}

// Text output goes to a terminal: a remote server's reply or a header must
// not be able to send it escape sequences. UTF-8 passes unchanged.
std::string terminal_safe(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// RFC 3461 NOTIFY keywords, as in the DSN extension's syntax.
std::string notify_text(unsigned notify) {
    std::string out;
    for (auto [bit, name] :
         {std::pair{store::kNotifySuccess, "SUCCESS"}, std::pair{store::kNotifyFailure, "FAILURE"},
          std::pair{store::kNotifyDelay, "DELAY"}, std::pair{store::kNotifyNever, "NEVER"}}) {
        if (notify & bit) out += (out.empty() ? "" : ",") + std::string(name);
    }
    return out;
}

std::string sender_text(const std::string& sender) {
    return sender.empty() ? "<>" : sender;
}

// The header section of the message file: up to (not including) the blank
// line, at most kMaxShownHeaderBytes.
std::string read_headers(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(kMaxShownHeaderBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    for (std::string_view blank : {"\r\n\r\n", "\n\n"}) {
        auto end = text.find(blank);
        if (end != std::string::npos) text.resize(end + blank.size() / 2);
    }
    if (text.starts_with("\r\n") || text.starts_with("\n")) text.clear();
    return text;
}

json list_row(const store::Envelope& e) {
    std::size_t pending = 0;
    std::string last_reply = "-";
    for (const auto& r : e.recipients) {
        if (r.state != store::RecipientState::Pending) continue;
        if (pending++ == 0 && !r.last_reply.empty()) last_reply = terminal_safe(r.last_reply);
    }
    return {{"id", e.id},
            {"arrival", iso_time(e.arrival)},
            {"size", e.size},
            {"sender", terminal_safe(sender_text(e.sender))},
            {"pending", std::to_string(pending) + "/" + std::to_string(e.recipients.size())},
            {"next_attempt", next_attempt_text(e.next_attempt)},
            {"last_reply", last_reply}};
}

int queue_list(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--json"});
    if (!args) return complain(kExUsage, args.error().message);
    if (!args->positional().empty())
        return complain(kExUsage, "usage: mailctl queue list [--json]");
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    std::vector<std::string> ids;
    if (spool) {
        auto listed = spool->list();
        if (!listed) return complain(kExTempFail, listed.error().message);
        ids = std::move(*listed);
    }
    const bool as_json = args->has("--json");
    json rows = json::array();
    int code = kExOk;
    for (const auto& id : ids) {
        auto e = spool->load(id);
        if (!e) {
            // Delivered or deleted since list(): not an error.
            if (message_exists(*spool, id)) code = complain(kExDataErr, e.error().message);
            continue;
        }
        rows.push_back(as_json ? store::to_json(*e) : list_row(*e));
    }
    print_table(rows, {"id", "arrival", "size", "sender", "pending", "next_attempt", "last_reply"},
                as_json);
    return code;
}

void print_envelope_text(const store::Envelope& e, const std::string& headers) {
    const std::pair<const char*, std::string> fields[] = {
        {"id", e.id},
        {"arrival", iso_time(e.arrival)},
        {"sender", terminal_safe(sender_text(e.sender))},
        {"size", std::to_string(e.size)},
        {"attempts", std::to_string(e.attempts)},
        {"next_attempt", next_attempt_text(e.next_attempt)},
        {"envid", e.envid.empty() ? "-" : terminal_safe(e.envid)},
        {"ret", e.ret_full ? "full" : "headers"},
        {"body", e.eight_bit ? "8bitmime" : "7bit"},
        {"smtputf8", e.smtputf8 ? "yes" : "no"},
        {"submitted_by", e.submitted_by.empty() ? "-" : terminal_safe(e.submitted_by)},
    };
    for (const auto& [name, value] : fields)
        std::cout << name << ": " << value << "\n";
    for (const auto& r : e.recipients) {
        std::cout << "recipient: " << terminal_safe(r.address) << "\n"
                  << "  state: " << store::to_string(r.state) << (r.bounced ? " (bounced)" : "")
                  << "\n"
                  << "  attempts: " << r.attempts << "\n"
                  << "  next_attempt: "
                  << (r.state == store::RecipientState::Pending ? next_attempt_text(r.next_attempt)
                                                                : "-")
                  << "\n"
                  << "  last_reply: " << (r.last_reply.empty() ? "-" : terminal_safe(r.last_reply))
                  << "\n"
                  << "  remote_host: "
                  << (r.remote_host.empty() ? "-" : terminal_safe(r.remote_host)) << "\n";
        if (!r.orcpt.empty()) std::cout << "  orcpt: " << terminal_safe(r.orcpt) << "\n";
        if (r.notify != 0) std::cout << "  notify: " << notify_text(r.notify) << "\n";
    }
    std::string text;
    for (char c : headers)
        if (c != '\r') text += c;
    std::cout << "headers:\n" << terminal_safe(text);
}

int queue_show(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--json"});
    if (!args) return complain(kExUsage, args.error().message);
    if (args->positional().size() != 1)
        return complain(kExUsage, "usage: mailctl queue show ID [--json]");
    const auto& id = args->positional()[0];
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    if (int code = check_id(spool, id); code != kExOk) return code;
    auto e = spool->load(id);
    if (!e) return load_failed(*spool, id, e.error());
    const auto headers = read_headers(spool->message_path(id));
    if (args->has("--json")) {
        auto j = store::to_json(*e);
        j["headers"] = headers;
        // Header bytes need not be UTF-8 (RFC 6532 aside); never throw on them.
        std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
        print_envelope_text(*e, headers);
    }
    return kExOk;
}

}  // namespace

int cmd_queue(const Context& ctx, const Words& words) {
    struct Verb {
        std::string_view name;
        int (*run)(const Context&, const Words&);
    };
    static constexpr Verb kVerbs[] = {{"list", queue_list},
                                      {"show", queue_show},
                                      {"retry", queue_retry},
                                      {"delete", queue_delete}};
    if (!words.empty()) {
        for (const auto& v : kVerbs)
            if (v.name == words[0]) return v.run(ctx, words);
    }
    return complain(kExUsage,
                    "usage: mailctl queue list [--json] | queue show ID [--json] | "
                    "queue retry ID|--all | queue delete ID...|--all");
}

}  // namespace postern::mailctl
