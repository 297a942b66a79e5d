// SEARCH criteria (RFC 9051 §6.4.4): parsed on the loop into a tree, then
// evaluated on the pool, message by message. The message file is read only
// when a key needs it (HEADER/FROM/.../BODY/TEXT), once per message.
// Substring matches follow search_text.h: decoded header values and body
// text, simple Unicode case folding (search strings are folded at parse).
// SENTBEFORE/SENTON/SENTSINCE compare the day of the Date: field (its time
// and zone disregarded, RFC 3501 §6.4.4); a message without a readable
// Date: matches none of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/imap_parser.h"
#include "imapd/search_text.h"
#include "imapd/seqset.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

struct SearchKey {
    enum class Kind {
        All,
        None,
        FlagSet,
        FlagClear,
        Seq,
        Uid,
        Header,
        Body,
        Text,
        Larger,
        Smaller,
        Before,
        On,
        Since,
        SentBefore,
        SentOn,
        SentSince,
        Not,
        Or,
        And
    };
    Kind kind = Kind::All;
    store::Flags flag = 0;
    std::vector<SeqRange> ranges;  // resolved
    std::string field;             // Header: upper-case field name
    std::string value;             // substring, case-folded
    std::int64_t number = 0;       // size or date
    std::vector<SearchKey> children;
    bool needs_file() const;
    // Whether the bodies are needed too (BODY, TEXT), not just the header.
    bool needs_body() const;
};

// What the criteria are read against beyond the mailbox size.
struct SearchOptions {
    // "$" as a sequence set, bare or after UID: the SEARCHRES saved UIDs
    // (RFC 5182 §2.1), so "SEARCH $ SMALLER 1000" narrows the saved result.
    std::vector<SeqRange> saved_uids;
    // IMAP4rev2 session: RECENT, NEW and OLD are BAD. RFC 9051 removed
    // \Recent (Appendix E) and these keys are not in its search-key
    // grammar (§9); an IMAP4rev1 session keeps them (RFC 3501 §6.4.4), and
    // since we keep no \Recent there, RECENT and NEW match nothing and OLD
    // matches everything.
    bool rev2 = false;
};

// Parses args[pos..]; `exists`/`max_uid` resolve "*". nullopt: BAD.
std::optional<SearchKey> parse_search(const std::vector<Arg>& args, std::size_t pos,
                                      std::uint32_t exists, std::uint32_t max_uid,
                                      const SearchOptions& options = {});

bool search_matches(const SearchKey& key, std::uint32_t seq, const store::MessageInfo& message,
                    SearchMessage& text);
// Convenience for one key: parses `file` itself.
bool search_matches(const SearchKey& key, std::uint32_t seq, const store::MessageInfo& message,
                    std::string_view file);

}  // namespace postern::imap
