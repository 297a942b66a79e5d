#include "imapd/imap_response.h"

#include <ctime>

#include "common/base/ascii.h"
#include "common/mail/imap_string.h"
#include "imapd/mutf7.h"

namespace postern::imap {

namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct FlagName {
    store::Flags bit;
    std::string_view name;
};
constexpr FlagName kFlagNames[] = {
    {store::kFlagAnswered, "\\Answered"}, {store::kFlagFlagged, "\\Flagged"},
    {store::kFlagDeleted, "\\Deleted"},   {store::kFlagSeen, "\\Seen"},
    {store::kFlagDraft, "\\Draft"},       {store::kFlagPassed, "$Forwarded"},
};

bool parse_uint(std::string_view s, int& out) {
    if (s.empty() || s.size() > 4) return false;
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

int month_index(std::string_view m) {
    for (int i = 0; i < 12; ++i)
        if (iequals(m, kMonths[i])) return i;
    return -1;
}

}  // namespace

std::string imap_string(std::string_view s) {
    std::string out;
    mail::append_imap_string(out, s);
    return out;
}

std::string imap_astring(std::string_view s) {
    bool atom = !s.empty() && !iequals(s, "NIL");
    for (unsigned char c : s)
        atom = atom && is_atom_char(c);
    return atom ? std::string(s) : imap_string(s);
}

std::string wire_mailbox(std::string_view utf8_name, NameEncoding encoding) {
    if (iequals(utf8_name, "INBOX")) return "INBOX";
    if (encoding == NameEncoding::Utf8) {
        // RFC 6855 §3 / RFC 9051 §4.3: UTF-8 may be quoted once enabled;
        // names never hold CR, LF or NUL, so a quoted string always fits.
        std::string out = "\"";
        for (char c : utf8_name) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out + '"';
    }
    auto encoded = mutf7_encode(utf8_name);
    // Names in the index were validated; fall back to the raw bytes anyway.
    return imap_string(encoded ? *encoded : std::string(utf8_name));
}

std::optional<std::string> mailbox_arg(const Arg& arg, NameEncoding encoding) {
    if (!arg.is_astring()) return std::nullopt;
    if (iequals(arg.text, "INBOX")) return std::string("INBOX");
    if (encoding == NameEncoding::Utf8) {
        // mutf7_encode accepts exactly the valid UTF-8 strings.
        if (!mutf7_encode(arg.text)) return std::nullopt;
        return arg.text;
    }
    auto decoded = mutf7_decode(arg.text);
    if (!decoded) return std::nullopt;
    if (iequals(*decoded, "INBOX")) return std::string("INBOX");
    return *decoded;
}

std::string list_pattern_arg(std::string_view pattern, NameEncoding encoding) {
    if (encoding == NameEncoding::Utf8) return std::string(pattern);
    auto decoded = mutf7_decode(pattern);
    return decoded ? *decoded : std::string(pattern);
}

std::string flag_list(store::Flags flags) {
    std::string out = "(";
    for (const FlagName& f : kFlagNames) {
        if ((flags & f.bit) == 0) continue;
        if (out.size() > 1) out += ' ';
        out += f.name;
    }
    out += ')';
    return out;
}

std::optional<store::Flags> flag_from_name(std::string_view name) {
    for (const FlagName& f : kFlagNames)
        if (iequals(name, f.name)) return f.bit;
    return std::nullopt;
}

bool parse_flags(const Arg& arg, store::Flags& out) {
    out = 0;
    auto one = [&out](const Arg& a) {
        if (!a.is_atom() || a.text.empty()) return false;
        if (auto bit = flag_from_name(a.text)) out |= *bit;
        // \Recent and unknown system flags are refused; keywords ignored.
        if (a.text[0] == '\\' && !flag_from_name(a.text)) return false;
        return true;
    };
    if (!arg.is_list()) return one(arg);
    for (const Arg& a : arg.list)
        if (!one(a)) return false;
    return true;
}

std::string internal_date(std::int64_t epoch_seconds) {
    std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

// date = date-text / DQUOTE date-text DQUOTE;  date-text = date-day "-" date-month "-" date-year
std::optional<std::int64_t> parse_date(std::string_view s) {
    std::size_t d1 = s.find('-');
    std::size_t d2 = d1 == std::string_view::npos ? d1 : s.find('-', d1 + 1);
    if (d2 == std::string_view::npos) return std::nullopt;
    int day = 0, year = 0;
    int month = month_index(s.substr(d1 + 1, d2 - d1 - 1));
    if (!parse_uint(s.substr(0, d1), day) || !parse_uint(s.substr(d2 + 1), year) || month < 0 ||
        day < 1 || day > 31 || year < 1900 || s.substr(d2 + 1).size() != 4)
        return std::nullopt;
    std::tm tm{};
    tm.tm_mday = day;
    tm.tm_mon = month;
    tm.tm_year = year - 1900;
    return static_cast<std::int64_t>(timegm(&tm));
}

// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
std::optional<std::int64_t> parse_date_time(std::string_view s) {
    std::string_view t = trim(s);
    if (t.size() != 26 || t[11] != ' ' || t[20] != ' ') return std::nullopt;
    std::string_view date = trim(t.substr(0, 11));
    auto day = parse_date(date);
    int hh = 0, mm = 0, ss = 0, zone = 0;
    if (!day || t[14] != ':' || t[17] != ':' || !parse_uint(t.substr(12, 2), hh) ||
        !parse_uint(t.substr(15, 2), mm) || !parse_uint(t.substr(18, 2), ss) ||
        (t[21] != '+' && t[21] != '-') || !parse_uint(t.substr(22, 4), zone) || hh > 23 ||
        mm > 59 || ss > 60)
        return std::nullopt;
    std::int64_t offset = (zone / 100) * 3600 + (zone % 100) * 60;
    if (t[21] == '-') offset = -offset;
    return *day + hh * 3600 + mm * 60 + ss - offset;
}

std::string store_failure_reply(const store::Failure& failure) {
    switch (failure.code) {
        case store::StoreError::NotFound:
            return "NO [NONEXISTENT] No such mailbox";
        case store::StoreError::Exists:
            return "NO [ALREADYEXISTS] Mailbox already exists";
        case store::StoreError::NoQuota:
            return "NO [OVERQUOTA] Quota exceeded";
        case store::StoreError::TooBig:
            return "NO [TOOBIG] Message too big";
        case store::StoreError::Invalid:
            return "NO [CANNOT] Invalid mailbox name or operation";
        case store::StoreError::InUse:
            return "NO [HASCHILDREN] Mailbox has children";
        case store::StoreError::Perm:
            return "NO [NOPERM] Permission denied";
        case store::StoreError::Temp:
            break;
    }
    return "NO [UNAVAILABLE] Internal error, try again later";
}

}  // namespace postern::imap
