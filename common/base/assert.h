// POSTERN_ASSERT / POSTERN_PANIC: for broken invariants of our own code only.
//
// Never assert on anything the network, the disk or the configuration can
// cause: those get a protocol reply, a temporary failure or a ConfigError.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace postern::detail {
[[noreturn]] inline void panic(const char* what, const char* file, int line) {
    std::fprintf(stderr, "panic: %s at %s:%d\n", what, file, line);
    std::abort();
}
}  // namespace postern::detail

#define POSTERN_PANIC(what) ::postern::detail::panic((what), __FILE__, __LINE__)
#define POSTERN_ASSERT(cond)       \
    ((cond) ? static_cast<void>(0) \
            : ::postern::detail::panic("assertion failed: " #cond, __FILE__, __LINE__))
