// One line per event: "<time> <program>[<pid>] <context> <event> key=value ...".
//
// The context (session id first, then peer) comes from a LogContext that each
// session owns, so every line of a session carries the same prefix:
//   smtpd[4711] s=3f2a91c0 peer=[192.0.2.7]:51234 disconnect reason=timeout
// Values with spaces or control bytes are quoted and escaped; Secret<> values
// are always written as ********. Each line is one write(2) so that lines from
// threads and processes sharing stderr never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/log/secret.h"

namespace postern::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Called once by each main(): the program name that prefixes every line and
// the lowest level that is written.
void init(std::string_view program, Level min_level);
void set_level(Level min_level);
bool parse_level(std::string_view name, Level& out);

// The per-session prefix, e.g. "s=3f2a91c0 peer=[::1]:4711".
struct LogContext {
    std::string prefix;
    static LogContext for_session(std::uint64_t session_id, std::string_view peer);
};

// Builds one line and emits it when destroyed (at the end of the statement).
class Line {
  public:
    Line(Level level, const LogContext* ctx, std::string_view event);
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;
    ~Line();

    Line& kv(std::string_view key, std::string_view value);
    Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
    Line& kv(std::string_view key, const std::string& value) {
        return kv(key, std::string_view(value));
    }
    Line& kv(std::string_view key, std::int64_t value);
    Line& kv(std::string_view key, std::uint64_t value);
    Line& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
    Line& kv(std::string_view key, unsigned value) {
        return kv(key, static_cast<std::uint64_t>(value));
    }
    template <typename T>
    Line& kv(std::string_view key, const Secret<T>&) {
        return kv(key, std::string_view(kRedacted));
    }

  private:
    bool enabled_;
    Level level_;
    std::string text_;
};

inline Line debug(std::string_view event) {
    return Line(Level::Debug, nullptr, event);
}
inline Line info(std::string_view event) {
    return Line(Level::Info, nullptr, event);
}
inline Line warn(std::string_view event) {
    return Line(Level::Warn, nullptr, event);
}
inline Line error(std::string_view event) {
    return Line(Level::Error, nullptr, event);
}
inline Line debug(const LogContext& c, std::string_view event) {
    return Line(Level::Debug, &c, event);
}
inline Line info(const LogContext& c, std::string_view event) {
    return Line(Level::Info, &c, event);
}
inline Line warn(const LogContext& c, std::string_view event) {
    return Line(Level::Warn, &c, event);
}
inline Line error(const LogContext& c, std::string_view event) {
    return Line(Level::Error, &c, event);
}

// Tests capture lines instead of writing them to stderr.
void capture_for_test(std::string* sink);

}  // namespace postern::log
