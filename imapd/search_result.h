// SEARCH results: the RETURN options of ESEARCH (RFC 4731) and the two
// response forms. A SEARCH with RETURN, or any SEARCH after ENABLE
// IMAP4rev2 (RFC 9051 §7.3.4), is answered with
//   * ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL sequence-set]
// where MIN, MAX and ALL are left out when nothing matched (RFC 4731 §3.1);
// otherwise with the IMAP4rev1 "* SEARCH n n n". Pure.
//
// SAVE (SEARCHRES, RFC 5182 §2.1) keeps the result for "$". It changes
// neither what is answered for MIN/MAX/COUNT/ALL nor whether: RETURN (SAVE)
// alone sends no ESEARCH at all (§2.1, example in §3). With only MIN and/or
// MAX beside it, just those messages are saved; with ALL or COUNT, all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imapd/imap_parser.h"

namespace postern::imap {

struct SearchReturn {
    bool esearch = false;  // answer with ESEARCH
    bool min = false;
    bool max = false;
    bool count = false;
    bool all = false;
    bool save = false;  // SEARCHRES
    // Whether an untagged SEARCH/ESEARCH is sent at all.
    bool respond() const { return !esearch || min || max || count || all; }
};

// "RETURN (...)" at args[pos], if present: advances pos past it. nullopt
// (BAD) for an unknown option or a malformed list. RETURN () means ALL.
// `rev2` makes ESEARCH (ALL) the default.
std::optional<SearchReturn> parse_search_return(const std::vector<Arg>& args, std::size_t& pos,
                                                bool rev2);

// The untagged response without "* ". `numbers` ascending.
std::string search_response(const SearchReturn& ret, const std::string& tag, bool uid,
                            const std::vector<std::uint32_t>& numbers);

// What SAVE keeps of the ascending `found` (RFC 5182 §2.1 on MIN/MAX).
std::vector<std::uint32_t> saved_subset(const SearchReturn& ret,
                                        const std::vector<std::uint32_t>& found);

// "1:3,7" for ascending numbers (also the UIDPLUS uid-set form).
std::string sequence_set_text(const std::vector<std::uint32_t>& ascending);

}  // namespace postern::imap
