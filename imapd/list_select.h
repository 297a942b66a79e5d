// LIST and LSUB as a pure model (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258,
// SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819): the command's arguments ->
// ListRequest, and the index's mailboxes -> the entries to answer with.
//
//   LIST [SP "(" selection-options ")"] SP reference SP
//        (pattern / "(" pattern *(SP pattern) ")")
//        [SP "RETURN" SP "(" return-options ")"]
//
// Which names are listed (RFC 5258 §3, the table in RFC 9051 §6.3.9):
// - Without selection options: every existing mailbox a pattern matches,
//   and a name that does not exist but has an existing descendant the
//   patterns do not reach ("%" stopped there), with \NonExistent.
// - With SUBSCRIBED and/or SPECIAL-USE: the matching mailboxes that meet
//   every criterion; with RECURSIVEMATCH also a matching name one of whose
//   descendants does, carrying CHILDINFO (and \NonExistent if need be).
// \HasChildren/\HasNoChildren and special-use attributes are always given
// (RFC 9051 and RFC 6154 allow it unasked); \Subscribed when SUBSCRIBED is
// selected or returned. INBOX matches case-insensitively (RFC 9051 §5.1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "imapd/imap_parser.h"
#include "imapd/imap_response.h"
#include "imapd/status_items.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

struct ListRequest {
    bool lsub = false;
    bool select_subscribed = false;
    bool select_special_use = false;
    bool recursive_match = false;
    bool return_subscribed = false;
    std::vector<std::string> patterns;     // UTF-8, reference prepended
    std::vector<StatusItem> status_items;  // RETURN (STATUS (...)); empty: none
    // "" pattern without options: the hierarchy delimiter query.
    bool delimiter_query() const { return patterns.size() == 1 && patterns[0].empty(); }
    bool has_selection() const { return select_subscribed || select_special_use; }
};

// nullopt: BAD (unknown option, RECURSIVEMATCH alone, malformed arguments).
std::optional<ListRequest> parse_list_command(const std::vector<Arg>& args, bool lsub,
                                              NameEncoding encoding, bool rev2);

struct ListEntry {
    std::string name;  // UTF-8
    bool exists = false;
    std::string attributes;  // inside the parentheses
    std::string childinfo;   // CHILDINFO items, "" if none: "\"SUBSCRIBED\""
};

// `rev2`: \NonExistent alone (RFC 9051); IMAP4rev1 also says \Noselect.
std::vector<ListEntry> select_mailboxes(const ListRequest& request,
                                        const std::vector<store::MailboxInfo>& boxes, bool rev2);

// The entry a plain LIST gives for the existing mailbox `name` (its
// \HasChildren/\HasNoChildren and special-use attributes): the untagged
// LIST that SELECT and EXAMINE send in IMAP4rev2 (RFC 9051 §6.3.2).
ListEntry mailbox_entry(const std::string& name, const std::vector<store::MailboxInfo>& boxes);

// SELECT/EXAMINE in IMAP4rev2 (RFC 9051 §6.3.2): "LIST (attrs) "/" name",
// plus the OLDNAME extended data item (RFC 9051 §6.3.9.7, RFC 5465 §5.4)
// carrying the name as the client wrote it when that differs from the
// mailbox's canonical name ("inbox" for INBOX). `given` is UTF-8 (the
// name encoding of IMAP4rev2, RFC 9051 §5.1). Without "* ".
std::string selected_list_response(const ListEntry& entry, const std::string& given,
                                   NameEncoding encoding);

// "LIST (attrs) "/" name [("CHILDINFO" (...))]" without "* ".
std::string list_response(const ListRequest& request, const ListEntry& entry,
                          NameEncoding encoding);

// list-mailbox matching: "*" matches anything, "%" anything but "/".
bool list_match(const std::string& pattern, const std::string& name);

}  // namespace postern::imap
