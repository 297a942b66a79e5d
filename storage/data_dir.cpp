#include "storage/data_dir.h"

#include "common/base/ascii.h"
#include "storage/address.h"

namespace postern::store {
namespace {

// Escapes the bytes that carry meaning in a path or in Maildir++ names.
std::string escape_component(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '.') {
            out += "%2E";
        } else if (c == '%') {
            out += "%25";
        } else if (c == '/') {
            out += "%2F";
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> unescape_component(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        std::string_view code = s.substr(i + 1, 2);
        if (code == "2E") {
            out += '.';
        } else if (code == "25") {
            out += '%';
        } else if (code == "2F") {
            out += '/';
        } else {
            return std::nullopt;
        }
        i += 2;
    }
    return out;
}

Failure invalid(std::string_view why, std::string_view name) {
    return Failure{StoreError::Invalid, std::string(why) + ": " + printable(name)};
}

}  // namespace

StoreResult<UserPaths> DataDir::user(std::string_view domain, std::string_view local) const {
    if (!is_valid_domain(domain)) return fail(invalid("bad domain", domain));
    if (!is_valid_local_part(local)) return fail(invalid("bad local part", local));
    UserPaths p;
    // A valid domain has no '/', and no leading '.' ; the local part may hold
    // '/' (atext), which the escape removes.
    p.home = root_ / "users" / ascii_lowercase(domain) / escape_component(local_key(local));
    p.maildir = p.home / "Maildir";
    p.index_db = p.home / "index.db";
    p.change_file = p.home / "index.changed";
    return p;
}

StoreResult<std::string> validate_mailbox_name(std::string_view name) {
    if (name.empty()) return fail(invalid("empty mailbox name", name));
    if (name.size() > kMaxMailboxNameBytes) return fail(invalid("mailbox name too long", name));
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return fail(invalid("control byte in mailbox name", name));
    }
    if (name.find("..") != std::string_view::npos) return fail(invalid("'..' in name", name));
    if (name.front() == kHierarchySeparator || name.back() == kHierarchySeparator) {
        return fail(invalid("leading or trailing '/'", name));
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find(kHierarchySeparator, start);
        if (end == std::string_view::npos) end = name.size();
        std::string_view part = name.substr(start, end - start);
        if (part.empty()) return fail(invalid("empty component", name));
        if (part == ".") return fail(invalid("'.' component", name));
        start = end + 1;
    }
    // RFC 3501 §5.1: INBOX is case-insensitive; every other name is not.
    std::string canonical(name);
    if (iequals(name, kInbox)) {
        canonical = kInbox;
    } else if (istarts_with(name, "INBOX/")) {
        canonical.replace(0, kInbox.size(), kInbox);
    }
    std::string dir = "." + escape_component(canonical);
    if (dir.size() > kMaxFolderDirBytes) return fail(invalid("escaped name too long", name));
    return canonical;
}

StoreResult<std::string> folder_dir_name(std::string_view name) {
    auto canonical = validate_mailbox_name(name);
    if (!canonical) return canonical;
    if (*canonical == kInbox) return std::string();
    std::string dir;
    std::size_t start = 0;
    while (start < canonical->size()) {
        std::size_t end = canonical->find(kHierarchySeparator, start);
        if (end == std::string::npos) end = canonical->size();
        dir += '.';
        dir += escape_component(std::string_view(*canonical).substr(start, end - start));
        start = end + 1;
    }
    return dir;
}

StoreResult<std::filesystem::path> folder_path(const std::filesystem::path& maildir,
                                               std::string_view name) {
    auto dir = folder_dir_name(name);
    if (!dir) return fail(dir.error());
    if (dir->empty()) return maildir;
    return maildir / *dir;
}

std::optional<std::string> mailbox_name_from_dir(std::string_view dir_name) {
    if (dir_name.size() < 2 || dir_name.front() != '.') return std::nullopt;
    std::string name;
    std::size_t start = 1;
    while (start <= dir_name.size()) {
        std::size_t end = dir_name.find('.', start);
        if (end == std::string_view::npos) end = dir_name.size();
        auto part = unescape_component(dir_name.substr(start, end - start));
        if (!part || part->empty()) return std::nullopt;
        if (!name.empty()) name += kHierarchySeparator;
        name += *part;
        start = end + 1;
    }
    auto valid = validate_mailbox_name(name);
    if (!valid || *valid != name) return std::nullopt;
    return name;
}

}  // namespace postern::store
