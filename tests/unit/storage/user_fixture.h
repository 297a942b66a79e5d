// Test helpers for storage: users in a temp data dir, and file listings.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/base/assert.h"
#include "storage/data_dir.h"
#include "storage/mailbox_index.h"
#include "tests/support/temp_dir.h"

namespace postern::store::test_support {

inline UserPaths user_paths(const std::filesystem::path& root, const char* local) {
    auto p = DataDir(root).user("example.org", local);
    POSTERN_ASSERT(p.ok());
    return *p;
}

inline MailboxIndex open_index(const UserPaths& paths) {
    auto index = MailboxIndex::open(paths);
    if (!index) std::fprintf(stderr, "open_index: %s\n", index.error().detail.c_str());
    POSTERN_ASSERT(index.ok());
    return std::move(index).value();
}

// File names in dir (non-recursive), sorted.
inline std::vector<std::string> files_in(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::string out;
    FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) return "<missing>";
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.append(buf, n);
    std::fclose(f);
    return out;
}

inline nlink_t link_count(const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_nlink;
}

}  // namespace postern::store::test_support
