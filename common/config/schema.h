// The configuration schema: one row per key, the single source of truth.
//
// A row gives the dotted key, its type, its default (as JSON text), its range
// or choices, a doc string (unit, and where the default comes from) and the
// setter that stores a checked value into the typed Config. The loader, the
// sample renderer and the tests all walk this table; nothing else lists keys.
// Keys are at most two levels deep ("section.name"); the rows of a section are
// contiguous and top-level keys come first, in the order the sample shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/config/config.h"

namespace postern::config {

enum class FieldType {
    Bool,
    Uint,         // min..max inclusive
    String,       // optional extra check
    Path,         // relative: against the config file's directory; "" stays ""
    Enum,         // one of `choices`, stored as the enumerator with that index
    Address,      // "" or "ip:port" / "[v6]:port" / "localhost:port"
    HostPort,     // "" or "name:port"; like Address but DNS names allowed
    AddressList,  // list of Address; empty list = service off
};

// The position of an enum choice; enumerators are declared in choice order.
struct EnumIndex {
    std::size_t index = 0;
};

// A value after type and range checks, ready for the setter.
using Value = std::variant<bool, std::uint64_t, std::string, std::filesystem::path, EnumIndex,
                           std::optional<Endpoint>, std::vector<Endpoint>>;

// Extra check for a string: returns what is wrong, or nullopt.
using StringCheck = std::optional<std::string> (*)(std::string_view);

struct Binding {
    std::string_view key;  // "smtp.max_line_bytes"; equal to the member names
    void (*set)(Config&, const Value&);
};

struct Field {
    Binding bind;
    FieldType type;
    std::string_view default_json;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::span<const std::string_view> choices = {};
    StringCheck check = nullptr;
    std::string_view doc;
};

struct Section {
    std::string_view name;
    std::string_view doc;
};

std::span<const Field> fields();
std::span<const Section> sections();
const Field* find_field(std::string_view key);
const Section* find_section(std::string_view name);

// "smtp" for "smtp.max_line_bytes", "" for "hostname".
std::string_view section_of(std::string_view key);
// "max_line_bytes" for "smtp.max_line_bytes".
std::string_view name_of(std::string_view key);

// Appends "path: unknown key" (or "must be an object") for every member of
// `doc` that the schema does not know. `doc` must be an object.
void find_unknown_keys(const nlohmann::json& doc, std::vector<std::string>& errors);

// Type, range and syntax checks of one value; paths are resolved against
// base_dir. On failure returns the message without the key prefix.
Result<Value> convert(const Field& field, const nlohmann::json& value,
                      const std::filesystem::path& base_dir);

// Parses "host:port" / "[v6]:port". Hosts: IPv4 or IPv6 literal or
// "localhost"; with allow_names, any DNS name.
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_names);

// RFC 1123 section 2.1 host name: dot-separated labels of letters, digits and
// '-', 1 to 63 octets each, not starting or ending with '-'; 253 in all.
bool is_dns_name(std::string_view s);

}  // namespace postern::config
