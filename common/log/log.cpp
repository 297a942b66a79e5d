#include "common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/base/ascii.h"

namespace postern::log {
namespace {

std::string g_program = "postern";
std::atomic<int> g_min_level{static_cast<int>(Level::Info)};
std::string* g_capture = nullptr;
std::mutex g_capture_mutex;

constexpr const char* level_tag(Level level) {
    switch (level) {
        case Level::Debug:
            return "debug: ";
        case Level::Info:
            return "";
        case Level::Warn:
            return "warning: ";
        case Level::Error:
            return "error: ";
    }
    return "";
}

bool needs_quotes(std::string_view v) {
    if (v.empty()) return true;
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\\') return true;
    }
    return false;
}

}  // namespace

void init(std::string_view program, Level min_level) {
    g_program = std::string(program) + "[" + std::to_string(getpid()) + "]";
    set_level(min_level);
}

void set_level(Level min_level) {
    g_min_level = static_cast<int>(min_level);
}

bool parse_level(std::string_view name, Level& out) {
    if (name == "debug")
        out = Level::Debug;
    else if (name == "info")
        out = Level::Info;
    else if (name == "warn")
        out = Level::Warn;
    else if (name == "error")
        out = Level::Error;
    else
        return false;
    return true;
}

LogContext LogContext::for_session(std::uint64_t session_id, std::string_view peer) {
    char id[24];
    std::snprintf(id, sizeof id, "s=%08" PRIx64, session_id);
    return LogContext{std::string(id) + " peer=" + std::string(peer)};
}

Line::Line(Level level, const LogContext* ctx, std::string_view event)
    : enabled_(static_cast<int>(level) >= g_min_level.load()), level_(level) {
    if (!enabled_) return;
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    text_ = stamp;
    text_ += g_program;
    text_ += ' ';
    if (ctx != nullptr && !ctx->prefix.empty()) {
        text_ += ctx->prefix;
        text_ += ' ';
    }
    text_ += level_tag(level_);
    text_ += event;
}

Line& Line::kv(std::string_view key, std::string_view value) {
    if (!enabled_) return *this;
    text_ += ' ';
    text_ += key;
    text_ += '=';
    if (!needs_quotes(value)) {
        text_ += value;
        return *this;
    }
    text_ += '"';
    text_ += printable(value, 400);
    text_ += '"';
    return *this;
}

Line& Line::kv(std::string_view key, std::int64_t value) {
    return kv(key, std::string_view(std::to_string(value)));
}

Line& Line::kv(std::string_view key, std::uint64_t value) {
    return kv(key, std::string_view(std::to_string(value)));
}

Line::~Line() {
    if (!enabled_) return;
    text_ += '\n';
    {
        std::lock_guard lock(g_capture_mutex);
        if (g_capture != nullptr) {
            *g_capture += text_;
            return;
        }
    }
    // One write(2) per line: lines from several threads never interleave.
    const ssize_t ignored = ::write(STDERR_FILENO, text_.data(), text_.size());
    (void)ignored;
}

void capture_for_test(std::string* sink) {
    std::lock_guard lock(g_capture_mutex);
    g_capture = sink;
}

}  // namespace postern::log
