// SEARCH results: the RETURN options of ESEARCH (RFC 4731) and the two
// response forms. A SEARCH with RETURN, or any SEARCH after ENABLE
// IMAP4rev2 (RFC 9051 §7.3.4), is answered with
//   * ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL sequence-set]
// where MIN, MAX and ALL are left out when nothing matched (RFC 4731 §3.1);
// otherwise with the IMAP4rev1 "* SEARCH n n n". Pure.
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
};

// "RETURN (...)" at args[pos], if present: advances pos past it. nullopt
// (BAD) for an unknown option or a malformed list. RETURN () means ALL.
// `rev2` makes ESEARCH (ALL) the default.
std::optional<SearchReturn> parse_search_return(const std::vector<Arg>& args, std::size_t& pos,
                                                bool rev2);

// The untagged response without "* ". `numbers` ascending.
std::string search_response(const SearchReturn& ret, const std::string& tag, bool uid,
                            const std::vector<std::uint32_t>& numbers);

// "1:3,7" for ascending numbers (also the UIDPLUS uid-set form).
std::string sequence_set_text(const std::vector<std::uint32_t>& ascending);

}  // namespace postern::imap
