// Type, range and syntax checks of single values (schema.h: convert(),
// parse_endpoint()). Messages name no key: the caller prefixes the path.
#include <arpa/inet.h>

#include <charconv>

#include "common/config/schema.h"

namespace postern::config {
namespace {

using nlohmann::json;

std::string json_quoted(std::string_view s) {
    return json(std::string(s)).dump();
}

// A JSON value as it would appear in the file, for "got X" messages.
std::string shown(const json& v) {
    std::string text = v.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return v.is_string() ? text : std::string(v.type_name()) + " " + text;
}

bool is_ipv4(const std::string& s) {
    in_addr a{};
    return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
    in6_addr a{};
    return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

}  // namespace

bool is_dns_name(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-') return false;
            label = 0;
            continue;
        }
        const char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        ++label;
    }
    return true;
}

namespace {

Result<std::uint16_t> parse_port(std::string_view s) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || s.size() > 5 || ec != std::errc() || end != s.data() + s.size())
        return fail("port must be a number, got " + json_quoted(s));
    if (value < 1 || value > 65535)
        return fail("port must be between 1 and 65535, got " + std::to_string(value));
    return static_cast<std::uint16_t>(value);
}

Result<std::uint64_t> convert_uint(const Field& f, const json& v) {
    const std::string range =
        "must be between " + std::to_string(f.min) + " and " + std::to_string(f.max) + ", got ";
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n < f.min || n > f.max) return fail(range + std::to_string(n));
        return n;
    }
    if (v.is_number_integer()) return fail(range + std::to_string(v.get<std::int64_t>()));
    return fail("must be an unsigned integer, got " + shown(v));
}

Result<std::string> convert_string(const Field& f, const json& v) {
    if (!v.is_string()) return fail("must be a string, got " + shown(v));
    const auto& s = v.get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos) return fail("must not contain NUL");
    if (f.check != nullptr) {
        if (auto problem = f.check(s)) return fail(*problem + ", got " + json_quoted(s));
    }
    return s;
}

Result<EnumIndex> convert_enum(const Field& f, const json& v) {
    if (!v.is_string()) return fail("must be a string, got " + shown(v));
    const auto& s = v.get_ref<const std::string&>();
    std::string choices;
    for (std::size_t i = 0; i < f.choices.size(); ++i) {
        if (f.choices[i] == s) return EnumIndex{i};
        choices += (i == 0 ? "" : ", ") + std::string(f.choices[i]);
    }
    return fail("must be one of " + choices + ", got " + json_quoted(s));
}

Result<std::vector<Endpoint>> convert_list(const json& v, std::string& where) {
    if (!v.is_array()) return fail("must be a list of \"host:port\" strings, got " + shown(v));
    std::vector<Endpoint> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        where = "[" + std::to_string(i) + "]";
        if (!v[i].is_string()) return fail("must be a \"host:port\" string, got " + shown(v[i]));
        auto e = parse_endpoint(v[i].get_ref<const std::string&>(), /*allow_names=*/false);
        if (!e) return fail(e.error());
        out.push_back(std::move(*e));
    }
    where.clear();
    return out;
}

}  // namespace

std::string Endpoint::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// endpoint = ( IPv4 / "[" IPv6 "]" / "localhost" / name ) ":" port
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_names) {
    const std::string what = json_quoted(text) + ": ";
    std::string host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return fail(what + "missing ']'");
        host = std::string(text.substr(1, close - 1));
        if (!is_ipv6(host)) return fail(what + "not an IPv6 address inside [ ]");
        if (close + 1 >= text.size() || text[close + 1] != ':') return fail(what + "missing :port");
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return fail(what + "missing :port");
        host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos)
            return fail(what + "an IPv6 address must be written in brackets, [addr]:port");
        const bool named = host == "localhost" || (allow_names && is_dns_name(host));
        if (!named && !is_ipv4(host))
            return fail(what + (allow_names ? "host must be an IP address or a domain name"
                                            : "host must be an IPv4 address, [IPv6] or localhost"));
    }
    auto p = parse_port(port);
    if (!p) return fail(what + p.error().message);
    return Endpoint{std::move(host), *p};
}

Result<Value> convert(const Field& f, const json& v, const std::filesystem::path& base_dir) {
    switch (f.type) {
        case FieldType::Bool:
            if (!v.is_boolean()) return fail("must be true or false, got " + shown(v));
            return Value(v.get<bool>());
        case FieldType::Uint: {
            auto n = convert_uint(f, v);
            if (!n) return fail(n.error());
            return Value(*n);
        }
        case FieldType::String: {
            auto s = convert_string(f, v);
            if (!s) return fail(s.error());
            return Value(std::move(*s));
        }
        case FieldType::Path: {
            auto s = convert_string(f, v);
            if (!s) return fail(s.error());
            std::filesystem::path p(*s);
            if (!p.empty() && p.is_relative()) p = (base_dir / p).lexically_normal();
            return Value(std::move(p));
        }
        case FieldType::Enum: {
            auto e = convert_enum(f, v);
            if (!e) return fail(e.error());
            return Value(*e);
        }
        case FieldType::Address:
        case FieldType::HostPort: {
            auto s = convert_string(f, v);
            if (!s) return fail(s.error());
            if (s->empty()) return Value(std::optional<Endpoint>());
            auto e = parse_endpoint(*s, f.type == FieldType::HostPort);
            if (!e) return fail(e.error());
            return Value(std::optional<Endpoint>(std::move(*e)));
        }
        case FieldType::AddressList: {
            std::string where;
            auto list = convert_list(v, where);
            if (!list) return fail(where + (where.empty() ? "" : ": ") + list.error().message);
            return Value(std::move(*list));
        }
    }
    POSTERN_PANIC("unknown FieldType");
}

}  // namespace postern::config
