// Sequence sets (RFC 9051 §9 sequence-set): "1,3:5,7:*".
//
// A set is kept as ranges, never as a list of numbers: "1:4294967295" is one
// range. resolve() replaces "*" with the largest number in use, then sorts
// and merges in O(n log n) for n ranges, so a hostile set of a million ranges
// costs a sort, not a quadratic walk. ("*" must be resolved before merging:
// "10:12,13:*" with largest 5 is 5:13, RFC 9051 §9 seq-range.)
// Matching against a mailbox walks ranges with binary search; the cost is
// proportional to the ranges plus the messages matched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/base/result.h"

namespace postern::imap {

struct SeqRange {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

class SeqSet {
  public:
    // "*" before resolve(); no real number is 2^32-1 + 1.
    static constexpr std::uint64_t kStar = 0x1'0000'0000ULL;

    // Fails on 0, overflow, empty elements and more than max_ranges
    // elements. "$" is not a set of numbers: callers test is_saved_marker()
    // first and use the session's SavedResult.
    static Result<SeqSet> parse(std::string_view text, std::size_t max_ranges);
    // A set of known ranges (a SavedResult's UIDs), without "*".
    static SeqSet of(const std::vector<SeqRange>& ranges);

    // With "*" meaning `largest` (the number of messages for sequence
    // numbers, the highest UID for UIDs). An empty mailbox makes "*" 0.
    std::vector<SeqRange> resolve(std::uint32_t largest) const;
    // Whether a number is above `largest`: for message sequence numbers that
    // is an error (BAD). Ranges with "*" never exceed: in an empty mailbox
    // "1:*" matches nothing, which is not worth failing a client over.
    bool exceeds(std::uint32_t largest) const;
    bool empty() const { return ranges_.empty(); }

  private:
    struct Raw {
        std::uint64_t lo = 0;
        std::uint64_t hi = 0;
    };
    std::vector<Raw> ranges_;       // as sent; kStar may appear
    std::uint64_t max_number_ = 0;  // largest number outside "*" ranges
};

// "$" (RFC 5182 §2.1, seq-set = sequence-set / "$"): the saved result of
// the last SEARCH RETURN (SAVE). It stands alone: "$,1" is not a set.
inline bool is_saved_marker(std::string_view text) {
    return text == "$";
}

// The SEARCHRES search result variable (RFC 5182 §2.1), kept per session.
// It holds UIDs, not sequence numbers: a message expunged after the SAVE
// drops out of "$" by itself (its UID no longer maps to a message), and
// "$" names the same messages in FETCH and in UID FETCH. Empty until a
// SAVE and after every change of selected mailbox (SELECT, EXAMINE, CLOSE,
// UNSELECT).
class SavedResult {
  public:
    // `uids` ascending.
    void save(const std::vector<std::uint32_t>& uids);
    void clear() { uids_.clear(); }
    // Merged UID ranges.
    const std::vector<SeqRange>& uids() const { return uids_; }

  private:
    std::vector<SeqRange> uids_;
};

// Sorts and merges touching or overlapping ranges in place.
void normalize(std::vector<SeqRange>& ranges);
bool contains(const std::vector<SeqRange>& ranges, std::uint32_t n);

}  // namespace postern::imap
