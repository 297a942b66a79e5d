#include "imapd/search_keys.h"

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
    Parser inner{items, 0, exists, max_uid, depth + 1};
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
            return k;
        }
    }
    if (word == "ALL" || word == "OLD") return make(K::All);
    if (word == "NEW" || word == "RECENT") return make(K::None);  // we keep no \Recent
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
        for (char& c : k.field)
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        return k;
    }
    if (word == "BODY" || word == "TEXT") {
        k.kind = word == "BODY" ? K::Body : K::Text;
        if (!string_arg(k.value)) return std::nullopt;
        return k;
    }
    if (word == "LARGER" || word == "SMALLER") {
        k.kind = word == "LARGER" ? K::Larger : K::Smaller;
        if (!number_arg(k.number)) return std::nullopt;
        return k;
    }
    if (word == "BEFORE" || word == "SENTBEFORE" || word == "ON" || word == "SENTON" ||
        word == "SINCE" || word == "SENTSINCE") {
        k.kind = word.find("BEFORE") != std::string::npos  ? K::Before
                 : word.find("SINCE") != std::string::npos ? K::Since
                                                           : K::On;
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
    auto set = SeqSet::parse(set_text, 1u << 20);
    if (!set) return std::nullopt;
    k.kind = uid ? K::Uid : K::Seq;
    k.ranges = set->resolve(uid ? max_uid : exists);
    return k;
}

bool icontains(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return true;
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                          [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
    return it != hay.end();
}

std::size_t header_end(std::string_view file) {
    std::size_t p = file.find("\n\n");
    std::size_t q = file.find("\r\n\r\n");
    if (p == std::string_view::npos && q == std::string_view::npos) return file.size();
    if (q != std::string_view::npos && (p == std::string_view::npos || q < p)) return q + 2;
    return p + 1;
}

// Any field named `field` whose unfolded value contains `value`.
bool header_matches(std::string_view file, const std::string& field, const std::string& value) {
    std::string_view header = file.substr(0, header_end(file));
    std::size_t pos = 0;
    while (pos < header.size()) {
        std::size_t end = pos;
        // A field runs until a line that does not start with WSP.
        do {
            std::size_t nl = header.find('\n', end);
            end = nl == std::string_view::npos ? header.size() : nl + 1;
        } while (end < header.size() && (header[end] == ' ' || header[end] == '\t'));
        std::string_view f = header.substr(pos, end - pos);
        pos = end;
        std::size_t colon = f.find(':');
        if (colon == std::string_view::npos || !iequals(trim(f.substr(0, colon)), field)) continue;
        std::string unfolded;
        for (char c : f.substr(colon + 1))
            if (c != '\r' && c != '\n') unfolded += c;
        if (icontains(unfolded, value)) return true;
    }
    return false;
}

}  // namespace

bool SearchKey::needs_file() const {
    if (kind == K::Header || kind == K::Body || kind == K::Text) return true;
    for (const SearchKey& c : children)
        if (c.needs_file()) return true;
    return false;
}

std::optional<SearchKey> parse_search(const std::vector<Arg>& args, std::size_t pos,
                                      std::uint32_t exists, std::uint32_t max_uid) {
    std::vector<Arg> rest(args.begin() + static_cast<std::ptrdiff_t>(pos), args.end());
    Parser p{rest, 0, exists, max_uid};
    return p.list(rest);
}

bool search_matches(const SearchKey& k, std::uint32_t seq, const store::MessageInfo& m,
                    std::string_view file) {
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
            return icontains(file.substr(std::min(header_end(file), file.size())), k.value);
        case K::Text:
            return icontains(file, k.value);
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
