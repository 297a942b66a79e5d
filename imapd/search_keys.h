// SEARCH criteria (RFC 9051 §6.4.4): parsed on the loop into a tree, then
// evaluated on the pool, message by message. The message file is read only
// when a key needs it (HEADER/FROM/.../BODY/TEXT), once per message.
// Substring matches are case-insensitive over ASCII, on the raw bytes
// (encoded words are not decoded: TODO(imapd): decode for SUBJECT/FROM).
// SENTBEFORE/SENTON/SENTSINCE compare the internal date, not Date:.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/imap_parser.h"
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
        Not,
        Or,
        And
    };
    Kind kind = Kind::All;
    store::Flags flag = 0;
    std::vector<SeqRange> ranges;  // resolved
    std::string field;             // Header: upper-case field name
    std::string value;             // substring
    std::int64_t number = 0;       // size or date
    std::vector<SearchKey> children;
    bool needs_file() const;
};

// Parses args[pos..]; `exists`/`max_uid` resolve "*". nullopt: BAD.
std::optional<SearchKey> parse_search(const std::vector<Arg>& args, std::size_t pos,
                                      std::uint32_t exists, std::uint32_t max_uid);

bool search_matches(const SearchKey& key, std::uint32_t seq, const store::MessageInfo& message,
                    std::string_view file);

}  // namespace postern::imap
