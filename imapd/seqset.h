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

    // "$" (SEARCHRES) is not supported. Fails on 0, overflow, empty
    // elements and more than max_ranges elements.
    static Result<SeqSet> parse(std::string_view text, std::size_t max_ranges);

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

// Sorts and merges touching or overlapping ranges in place.
void normalize(std::vector<SeqRange>& ranges);
bool contains(const std::vector<SeqRange>& ranges, std::uint32_t n);

}  // namespace postern::imap
