#include "imapd/search_keys.h"

#include <ctime>

#include <algorithm>

#include "common/base/ascii.h"
#include "imapd/imap_response.h"

namespace postern::imap {

namespace {

using K = SearchKey::Kind;

SearchKey make(K kind) {
    SearchKey k;
    k.kind = kind;
    return k;
}

struct Parser {
    const std::vector<Arg>& args;
    std::size_t pos;
    std::uint32_t exists;
    std::uint32_t max_uid;
    const SearchOptions& options;
    int depth = 0;

    const Arg* take() { return pos < args.size() ? &args[pos++] : nullptr; }
    bool string_arg(std::string& out) {
        const Arg* a = take();
        if (a == nullptr || !a->is_astring()) return false;
        out = a->text;
        return true;
    }
    bool number_arg(std::int64_t& out) {
        const Arg* a = take();
        if (a == nullptr || !a->is_atom() || a->text.empty() || a->text.size() > 18) return false;
        out = 0;
        for (char c : a->text) {
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        return true;
    }
    bool date_arg(std::int64_t& out) {
        const Arg* a = take();
        if (a == nullptr || !a->is_astring()) return false;
        auto d = parse_date(a->text);
        if (!d) return false;
        out = *d;
        return true;
    }

    std::optional<SearchKey> key();
    std::optional<SearchKey> list(const std::vector<Arg>& items);
};

struct FlagKey {
    std::string_view name;
    store::Flags flag;
    bool set;
};
constexpr FlagKey kFlagKeys[] = {
    {"ANSWERED", store::kFlagAnswered, true}, {"UNANSWERED", store::kFlagAnswered, false},
    {"DELETED", store::kFlagDeleted, true},   {"UNDELETED", store::kFlagDeleted, false},
    {"DRAFT", store::kFlagDraft, true},       {"UNDRAFT", store::kFlagDraft, false},
    {"FLAGGED", store::kFlagFlagged, true},   {"UNFLAGGED", store::kFlagFlagged, false},
    {"SEEN", store::kFlagSeen, true},         {"UNSEEN", store::kFlagSeen, false},
};

std::optional<SearchKey> Parser::list(const std::vector<Arg>& items) {
    Parser inner{items, 0, exists, max_uid, options, depth + 1};
    SearchKey all = make(K::And);
    while (inner.pos < items.size()) {
        auto k = inner.key();
        if (!k) return std::nullopt;
        all.children.push_back(std::move(*k));
    }
    if (all.children.empty()) return std::nullopt;
    return all;
}

std::optional<SearchKey> Parser::key() {
    if (depth > 32) return std::nullopt;
    const Arg* a = take();
    if (a == nullptr) return std::nullopt;
    if (a->is_list()) return list(a->list);
    if (!a->is_atom()) return std::nullopt;
    std::string word = a->text;
    for (char& c : word)
        c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    SearchKey k;
    for (const FlagKey& f : kFlagKeys) {
        if (word == f.name) {
            k.kind = f.set ? K::FlagSet : K::FlagClear;
            k.flag = f.flag;
            return k;
        }
    }
    static constexpr std::string_view kHeaders[] = {"BCC", "CC", "FROM", "TO", "SUBJECT"};
    for (std::string_view h : kHeaders) {
        if (word == h) {
            k.kind = K::Header;
            k.field = word;
            if (!string_arg(k.value)) return std::nullopt;
            k.value = fold_case(k.value);
            return k;
        }
    }
    if (word == "ALL") return make(K::All);
    if (word == "OLD" || word == "NEW" || word == "RECENT") {
        if (options.rev2) return std::nullopt;  // see SearchOptions::rev2
        return make(word == "OLD" ? K::All : K::None);
    }
    if (word == "KEYWORD" || word == "UNKEYWORD") {
        std::string kw;
        if (!string_arg(kw)) return std::nullopt;
        if (iequals(kw, "$Forwarded")) {
            k.kind = word == "KEYWORD" ? K::FlagSet : K::FlagClear;
            k.flag = store::kFlagPassed;
            return k;
        }
        return make(word == "KEYWORD" ? K::None : K::All);
    }
    if (word == "HEADER") {
        k.kind = K::Header;
        if (!string_arg(k.field) || !string_arg(k.value)) return std::nullopt;
        k.value = fold_case(k.value);
        for (char& c : k.field)
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        return k;
    }
    if (word == "BODY" || word == "TEXT") {
        k.kind = word == "BODY" ? K::Body : K::Text;
        if (!string_arg(k.value)) return std::nullopt;
        k.value = fold_case(k.value);
        return k;
    }
    if (word == "LARGER" || word == "SMALLER") {
        k.kind = word == "LARGER" ? K::Larger : K::Smaller;
        if (!number_arg(k.number)) return std::nullopt;
        return k;
    }
    if (word == "BEFORE" || word == "SENTBEFORE" || word == "ON" || word == "SENTON" ||
        word == "SINCE" || word == "SENTSINCE") {
        const bool sent = word.starts_with("SENT");
        if (word.ends_with("BEFORE")) {
            k.kind = sent ? K::SentBefore : K::Before;
        } else if (word.ends_with("SINCE")) {
            k.kind = sent ? K::SentSince : K::Since;
        } else {
            k.kind = sent ? K::SentOn : K::On;
        }
        if (!date_arg(k.number)) return std::nullopt;
        return k;
    }
    if (word == "NOT") {
        auto inner = key();
        if (!inner) return std::nullopt;
        k.kind = K::Not;
        k.children.push_back(std::move(*inner));
        return k;
    }
    if (word == "OR") {
        auto x = key();
        if (!x) return std::nullopt;
        auto y = key();
        if (!y) return std::nullopt;
        k.kind = K::Or;
        k.children.push_back(std::move(*x));
        k.children.push_back(std::move(*y));
        return k;
    }
    bool uid = word == "UID";
    std::string set_text = a->text;
    if (uid) {
        const Arg* s = take();
        if (s == nullptr || !s->is_atom()) return std::nullopt;
        set_text = s->text;
    }
    if (is_saved_marker(set_text)) {
        k.kind = K::Uid;  // "$" and "UID $" alike: the saved UIDs
        k.ranges = options.saved_uids;
        return k;
    }
    auto set = SeqSet::parse(set_text, 1u << 20);
    if (!set) return std::nullopt;
    k.kind = uid ? K::Uid : K::Seq;
    k.ranges = set->resolve(uid ? max_uid : exists);
    return k;
}

// Any field named `field` whose decoded value contains `value` (an empty
// value: any message that has the field, RFC 9051 §6.4.4).
bool header_matches(SearchMessage& text, const std::string& field, const std::string& value) {
    for (const SearchMessage::Field& f : text.header())
        if (iequals(f.name, field) && folded_contains(f.value, value)) return true;
    return false;
}

bool body_matches(SearchMessage& text, const std::string& value) {
    for (const std::string& body : text.bodies())
        if (folded_contains(body, value)) return true;
    return false;
}

bool any_header_matches(SearchMessage& text, const std::string& value) {
    for (const SearchMessage::Field& f : text.header())
        if (folded_contains(fold_case(f.name), value) || folded_contains(f.value, value))
            return true;
    return false;
}

// The day of an RFC 5322 §3.3 date-time, "[day-of-week ,] day month year
// time zone", as Unix seconds at 00:00 UTC of that calendar day. Obsolete
// two-digit years follow RFC 5322 §4.3. `value` is case-folded.
std::optional<std::int64_t> rfc5322_day(std::string_view value) {
    static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                   "jul", "aug", "sep", "oct", "nov", "dec"};
    if (auto comma = value.find(','); comma != std::string_view::npos)
        value.remove_prefix(comma + 1);
    std::vector<std::string_view> words;
    while (!value.empty() && words.size() < 3) {
        const auto start = value.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        value.remove_prefix(start);
        const auto end = std::min(value.find_first_of(" \t"), value.size());
        words.push_back(value.substr(0, end));
        value.remove_prefix(end);
    }
    if (words.size() < 3) return std::nullopt;
    auto number = [](std::string_view w) -> std::optional<int> {
        if (w.empty() || w.size() > 4) return std::nullopt;
        int n = 0;
        for (char c : w) {
            if (c < '0' || c > '9') return std::nullopt;
            n = n * 10 + (c - '0');
        }
        return n;
    };
    const auto day = number(words[0]);
    auto year = number(words[2]);
    int month = -1;
    for (int i = 0; i < 12; ++i)
        if (words[1].substr(0, 3) == kMonths[i]) month = i;
    if (!day || !year || month < 0 || *day < 1 || *day > 31) return std::nullopt;
    if (words[2].size() == 2) *year += *year < 50 ? 2000 : 1900;
    if (words[2].size() == 3) *year += 1900;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = *day;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::optional<std::int64_t> sent_day(SearchMessage& file) {
    for (const auto& field : file.header()) {
        if (iequals(field.name, "Date")) return rfc5322_day(field.value);
    }
    return std::nullopt;
}

}  // namespace

bool SearchKey::needs_file() const {
    if (kind == K::Header || kind == K::Body || kind == K::Text || kind == K::SentBefore ||
        kind == K::SentOn || kind == K::SentSince)
        return true;
    for (const SearchKey& c : children)
        if (c.needs_file()) return true;
    return false;
}

bool SearchKey::needs_body() const {
    if (kind == K::Body || kind == K::Text) return true;
    for (const SearchKey& c : children)
        if (c.needs_body()) return true;
    return false;
}

std::optional<SearchKey> parse_search(const std::vector<Arg>& args, std::size_t pos,
                                      std::uint32_t exists, std::uint32_t max_uid,
                                      const SearchOptions& options) {
    std::vector<Arg> rest(args.begin() + static_cast<std::ptrdiff_t>(pos), args.end());
    Parser p{rest, 0, exists, max_uid, options};
    return p.list(rest);
}

bool search_matches(const SearchKey& key, std::uint32_t seq, const store::MessageInfo& message,
                    std::string_view file) {
    SearchMessage text(file);
    return search_matches(key, seq, message, text);
}

bool search_matches(const SearchKey& k, std::uint32_t seq, const store::MessageInfo& m,
                    SearchMessage& file) {
    constexpr std::int64_t kDay = 86400;
    switch (k.kind) {
        case K::All:
            return true;
        case K::None:
            return false;
        case K::FlagSet:
            return (m.flags & k.flag) != 0;
        case K::FlagClear:
            return (m.flags & k.flag) == 0;
        case K::Seq:
            return contains(k.ranges, seq);
        case K::Uid:
            return contains(k.ranges, m.uid);
        case K::Header:
            return header_matches(file, k.field, k.value);
        case K::Body:
            return body_matches(file, k.value);
        case K::Text:
            return any_header_matches(file, k.value) || body_matches(file, k.value);
        case K::Larger:
            return static_cast<std::int64_t>(m.size) > k.number;
        case K::Smaller:
            return static_cast<std::int64_t>(m.size) < k.number;
        case K::Before:
            return m.internal_date < k.number;
        case K::On:
            return m.internal_date >= k.number && m.internal_date < k.number + kDay;
        case K::Since:
            return m.internal_date >= k.number;
        case K::SentBefore:
        case K::SentOn:
        case K::SentSince: {
            const auto day = sent_day(file);
            if (!day) return false;
            if (k.kind == K::SentBefore) return *day < k.number;
            if (k.kind == K::SentOn) return *day == k.number;
            return *day >= k.number;
        }
        case K::Not:
            return !search_matches(k.children[0], seq, m, file);
        case K::Or:
            return search_matches(k.children[0], seq, m, file) ||
                   search_matches(k.children[1], seq, m, file);
        case K::And:
            for (const SearchKey& c : k.children)
                if (!search_matches(c, seq, m, file)) return false;
            return true;
    }
    return false;
}

}  // namespace postern::imap
