#include "imapd/seqset.h"

#include <algorithm>

namespace postern::imap {

namespace {

// seq-number = nz-number / "*"
bool parse_number(std::string_view s, std::uint64_t& out) {
    if (s == "*") {
        out = SeqSet::kStar;
        return true;
    }
    if (s.empty() || s.size() > 10 || s[0] == '0') return false;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > 0xffff'ffffULL) return false;
    out = n;
    return true;
}

}  // namespace

// sequence-set = (seq-number / seq-range) ["," sequence-set]
// seq-range    = seq-number ":" seq-number   (either order, RFC 9051 §9)
Result<SeqSet> SeqSet::parse(std::string_view text, std::size_t max_ranges) {
    SeqSet set;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(start, comma - start);
        if (set.ranges_.size() >= max_ranges) return fail("too many ranges in sequence set");
        std::size_t colon = item.find(':');
        Raw r;
        if (colon == std::string_view::npos) {
            if (!parse_number(item, r.lo)) return fail("invalid sequence set");
            r.hi = r.lo;
        } else {
            if (!parse_number(item.substr(0, colon), r.lo) ||
                !parse_number(item.substr(colon + 1), r.hi))
                return fail("invalid sequence set");
            if (r.lo > r.hi) std::swap(r.lo, r.hi);
        }
        // "n:*" names existing messages whatever n is (RFC 9051 §9: "3:*"
        // with 2 messages is 2:3); only ranges without "*" can exceed.
        if (r.lo != kStar && r.hi != kStar) set.max_number_ = std::max(set.max_number_, r.hi);
        set.ranges_.push_back(r);
        start = comma + 1;
    }
    return set;
}

SeqSet SeqSet::of(const std::vector<SeqRange>& ranges) {
    SeqSet set;
    set.ranges_.reserve(ranges.size());
    for (const SeqRange& r : ranges) {
        set.ranges_.push_back(Raw{r.lo, r.hi});
        set.max_number_ = std::max<std::uint64_t>(set.max_number_, r.hi);
    }
    return set;
}

void SavedResult::save(const std::vector<std::uint32_t>& uids) {
    uids_.clear();
    for (std::uint32_t uid : uids) {
        if (!uids_.empty() && static_cast<std::uint64_t>(uids_.back().hi) + 1 == uid) {
            uids_.back().hi = uid;
        } else {
            uids_.push_back(SeqRange{uid, uid});
        }
    }
    normalize(uids_);  // a caller's unsorted list still gives a valid set
}

std::vector<SeqRange> SeqSet::resolve(std::uint32_t largest) const {
    std::vector<SeqRange> out;
    out.reserve(ranges_.size());
    for (const Raw& r : ranges_) {
        if (largest == 0 && (r.lo == kStar || r.hi == kStar)) continue;
        std::uint64_t lo = r.lo == kStar ? largest : r.lo;
        std::uint64_t hi = r.hi == kStar ? largest : r.hi;
        if (lo > hi) std::swap(lo, hi);
        if (hi == 0) continue;  // "*" of an empty mailbox
        if (lo == 0) lo = 1;
        out.push_back(SeqRange{static_cast<std::uint32_t>(lo), static_cast<std::uint32_t>(hi)});
    }
    normalize(out);
    return out;
}

bool SeqSet::exceeds(std::uint32_t largest) const {
    return max_number_ > largest;
}

void normalize(std::vector<SeqRange>& ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const SeqRange& a, const SeqRange& b) { return a.lo < b.lo; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (out > 0 && static_cast<std::uint64_t>(ranges[i].lo) <=
                           static_cast<std::uint64_t>(ranges[out - 1].hi) + 1) {
            ranges[out - 1].hi = std::max(ranges[out - 1].hi, ranges[i].hi);
        } else {
            ranges[out++] = ranges[i];
        }
    }
    ranges.resize(out);
}

bool contains(const std::vector<SeqRange>& ranges, std::uint32_t n) {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), n,
                               [](std::uint32_t v, const SeqRange& r) { return v < r.lo; });
    if (it == ranges.begin()) return false;
    --it;
    return n >= it->lo && n <= it->hi;
}

}  // namespace postern::imap
