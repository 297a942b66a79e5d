#include "imapd/list_select.h"

#include <map>
#include <set>

#include "common/base/ascii.h"

namespace postern::imap {

namespace {

// Dynamic programming: O(pattern x name), no backtracking blow-up.
bool wildcard_match(std::string_view pattern, std::string_view name) {
    std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
    prev[0] = 1;
    for (char p : pattern) {
        cur.assign(name.size() + 1, 0);
        if (p == '*' || p == '%') {
            cur[0] = prev[0];
            for (std::size_t j = 1; j <= name.size(); ++j)
                cur[j] = prev[j] || (cur[j - 1] && (p == '*' || name[j - 1] != '/'));
        } else {
            for (std::size_t j = 1; j <= name.size(); ++j)
                cur[j] = prev[j - 1] && name[j - 1] == p;
        }
        std::swap(prev, cur);
    }
    return prev[name.size()] != 0;
}

bool parse_selection(const Arg& list, ListRequest& req) {
    bool recursive = false;
    for (const Arg& o : list.list) {
        if (o.is("SUBSCRIBED")) {
            req.select_subscribed = true;
        } else if (o.is("SPECIAL-USE")) {
            req.select_special_use = true;
        } else if (o.is("RECURSIVEMATCH")) {
            recursive = true;
        } else if (!o.is("REMOTE")) {  // we have no remote mailboxes (RFC 5258 §3.1)
            return false;
        }
    }
    // RFC 5258 §3.1: RECURSIVEMATCH alone (or with REMOTE only) is BAD.
    if (recursive && !req.has_selection()) return false;
    req.recursive_match = recursive;
    return true;
}

// return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" /
//                 "STATUS" SP "(" status-att *(SP status-att) ")"
bool parse_return(const Arg& list, ListRequest& req, bool rev2) {
    const std::vector<Arg>& o = list.list;
    for (std::size_t i = 0; i < o.size(); ++i) {
        if (o[i].is("SUBSCRIBED")) {
            req.return_subscribed = true;
        } else if (o[i].is("STATUS") && i + 1 < o.size()) {
            auto items = parse_status_items(o[++i], rev2);
            if (!items) return false;
            req.status_items = std::move(*items);
        } else if (!o[i].is("CHILDREN") && !o[i].is("SPECIAL-USE")) {
            return false;  // CHILDREN and SPECIAL-USE are always on here
        }
    }
    return true;
}

bool add_pattern(const std::string& ref, const Arg& pat, NameEncoding encoding, ListRequest& req) {
    if (!pat.is_astring()) return false;
    // RFC 9051 §6.3.9: the reference is a prefix of the pattern.
    req.patterns.push_back(list_pattern_arg(ref + pat.text, encoding));
    return true;
}

}  // namespace

bool list_match(const std::string& pattern, const std::string& name) {
    if (name == "INBOX" || istarts_with(name, "INBOX/")) {
        std::string p = pattern;
        if (istarts_with(p, "INBOX")) p.replace(0, 5, "INBOX");
        return wildcard_match(p, name);
    }
    return wildcard_match(pattern, name);
}

std::optional<ListRequest> parse_list_command(const std::vector<Arg>& a, bool lsub,
                                              NameEncoding encoding, bool rev2) {
    ListRequest req;
    req.lsub = lsub;
    std::size_t i = 0;
    if (!lsub && i < a.size() && a[i].is_list()) {
        if (!parse_selection(a[i], req)) return std::nullopt;
        ++i;
    }
    if (i + 2 > a.size() || !a[i].is_astring()) return std::nullopt;
    const std::string& ref = a[i].text;
    const Arg& pat = a[i + 1];
    if (pat.is_list() && !lsub) {
        if (pat.list.empty()) return std::nullopt;
        for (const Arg& p : pat.list)
            if (!add_pattern(ref, p, encoding, req)) return std::nullopt;
    } else if (!add_pattern(ref, pat, encoding, req)) {
        return std::nullopt;
    }
    i += 2;
    if (!lsub && i + 2 == a.size() && a[i].is("RETURN") && a[i + 1].is_list()) {
        if (!parse_return(a[i + 1], req, rev2)) return std::nullopt;
        i += 2;
    }
    if (i != a.size()) return std::nullopt;
    return req;
}

namespace {

struct Node {
    const store::MailboxInfo* box = nullptr;
    bool meets = false;  // exists and meets every selection criterion
};

bool meets_selection(const ListRequest& req, const store::MailboxInfo& box) {
    if ((req.lsub || req.select_subscribed) && !box.subscribed) return false;
    if (req.select_special_use && box.special_use.empty()) return false;
    return true;
}

bool matched(const ListRequest& req, const std::string& name) {
    for (const std::string& p : req.patterns)
        if (list_match(p, name)) return true;
    return false;
}

// Descendants of `name` in the sorted map: the names after it that start
// with "name/".
template <typename Fn>
bool any_descendant(const std::map<std::string, Node>& nodes, const std::string& name, Fn fn) {
    std::string prefix = name + "/";
    for (auto it = nodes.upper_bound(name); it != nodes.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        if (fn(it->first, it->second)) return true;
    }
    return false;
}

std::string attributes(const ListRequest& req, const std::string& name, const Node& node,
                       const std::map<std::string, Node>& nodes, bool rev2) {
    std::string attrs;
    auto add = [&attrs](std::string_view a) {
        if (!attrs.empty()) attrs += ' ';
        attrs += a;
    };
    if (node.box == nullptr)
        add(rev2 || req.has_selection() ? "\\NonExistent" : "\\NonExistent \\Noselect");
    if (!req.lsub) {
        bool children = any_descendant(
            nodes, name, [](const std::string&, const Node& n) { return n.box != nullptr; });
        add(children ? "\\HasChildren" : "\\HasNoChildren");
    }
    if (node.box != nullptr && !node.box->special_use.empty()) add(node.box->special_use);
    bool subscribed = node.box != nullptr && node.box->subscribed;
    if (subscribed && (req.return_subscribed || req.select_subscribed)) add("\\Subscribed");
    return attrs;
}

}  // namespace

std::vector<ListEntry> select_mailboxes(const ListRequest& req,
                                        const std::vector<store::MailboxInfo>& boxes, bool rev2) {
    // Every ancestor of a mailbox is a node too, so that "%" can walk the tree.
    std::map<std::string, Node> nodes;
    for (const store::MailboxInfo& b : boxes) {
        for (std::size_t p = b.name.find('/'); p != std::string::npos; p = b.name.find('/', p + 1))
            nodes.try_emplace(b.name.substr(0, p));
        nodes[b.name] = Node{&b, meets_selection(req, b)};
    }
    bool filtered = req.lsub || req.has_selection();
    std::vector<ListEntry> out;
    for (const auto& [name, node] : nodes) {
        if (!matched(req, name)) continue;
        // A name that is not listed for itself may be listed for a
        // descendant: in a plain LIST every ancestor of a mailbox (as
        // \NonExistent), with selection options only under RECURSIVEMATCH
        // (CHILDINFO; RFC 9051 §6.3.9 table).
        bool child_meets =
            (!node.meets || req.recursive_match) &&
            any_descendant(nodes, name, [](const std::string&, const Node& d) { return d.meets; });
        if (!node.meets && (!child_meets || (filtered && !req.recursive_match))) continue;
        ListEntry e;
        e.name = name;
        e.exists = node.box != nullptr;
        e.attributes = attributes(req, name, node, nodes, rev2);
        if (req.recursive_match && child_meets) {
            std::string info = req.select_subscribed ? "\"SUBSCRIBED\"" : "";
            if (req.select_special_use)
                info += info.empty() ? "\"SPECIAL-USE\"" : " \"SPECIAL-USE\"";
            e.childinfo = info;
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::string list_response(const ListRequest& req, const ListEntry& e, NameEncoding encoding) {
    std::string out = req.lsub ? "LSUB (" : "LIST (";
    out += e.attributes;
    out += ") \"/\" ";
    out += wire_mailbox(e.name, encoding);
    if (!e.childinfo.empty()) out += " (\"CHILDINFO\" (" + e.childinfo + "))";
    return out;
}

ListEntry mailbox_entry(const std::string& name, const std::vector<store::MailboxInfo>& boxes) {
    ListEntry e;
    e.name = name;
    const std::string prefix = name + "/";
    bool children = false;
    std::string special_use;
    for (const store::MailboxInfo& b : boxes) {
        if (b.name == name) {
            e.exists = true;
            special_use = b.special_use;
        } else if (b.name.starts_with(prefix)) {
            children = true;
        }
    }
    e.attributes = children ? "\\HasChildren" : "\\HasNoChildren";
    if (!special_use.empty()) e.attributes += " " + special_use;
    return e;
}

std::string selected_list_response(const ListEntry& entry, const std::string& given,
                                   NameEncoding encoding) {
    std::string out = list_response(ListRequest{}, entry, encoding);
    // The name exactly as given: wire_mailbox() would canonicalize "inbox".
    if (given != entry.name) out += " (\"OLDNAME\" (" + imap_string(given) + "))";
    return out;
}

}  // namespace postern::imap
