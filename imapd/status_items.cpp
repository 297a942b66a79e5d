#include "imapd/status_items.h"

#include <string_view>

namespace postern::imap {

namespace {

struct ItemName {
    StatusItem item;
    std::string_view name;
};
constexpr ItemName kItems[] = {
    {StatusItem::Messages, "MESSAGES"},       {StatusItem::UidNext, "UIDNEXT"},
    {StatusItem::UidValidity, "UIDVALIDITY"}, {StatusItem::Unseen, "UNSEEN"},
    {StatusItem::Recent, "RECENT"},           {StatusItem::Size, "SIZE"},
    {StatusItem::Deleted, "DELETED"},
};

std::string_view item_name(StatusItem item) {
    for (const ItemName& i : kItems)
        if (i.item == item) return i.name;
    return "?";
}

std::uint64_t item_value(StatusItem item, const StatusCounts& c) {
    switch (item) {
        case StatusItem::Messages:
            return c.messages;
        case StatusItem::UidNext:
            return c.uidnext;
        case StatusItem::UidValidity:
            return c.uidvalidity;
        case StatusItem::Unseen:
            return c.unseen;
        case StatusItem::Recent:
            return 0;  // we keep no \Recent
        case StatusItem::Size:
            return c.size;
        case StatusItem::Deleted:
            return c.deleted;
    }
    return 0;
}

}  // namespace

std::optional<std::vector<StatusItem>> parse_status_items(const Arg& list, bool rev2) {
    if (!list.is_list() || list.list.empty()) return std::nullopt;
    std::vector<StatusItem> items;
    for (const Arg& a : list.list) {
        const ItemName* found = nullptr;
        for (const ItemName& i : kItems)
            if (a.is(i.name)) found = &i;
        if (found == nullptr || (rev2 && found->item == StatusItem::Recent)) return std::nullopt;
        items.push_back(found->item);
    }
    return items;
}

StatusCounts count_status(const store::MailboxInfo& box,
                          const std::vector<store::MessageInfo>& messages) {
    StatusCounts c;
    c.uidnext = box.uidnext;
    c.uidvalidity = box.uidvalidity;
    for (const store::MessageInfo& m : messages) {
        ++c.messages;
        if ((m.flags & store::kFlagSeen) == 0) ++c.unseen;
        if ((m.flags & store::kFlagDeleted) != 0) ++c.deleted;
        c.size += m.size;
    }
    return c;
}

std::string status_response(const std::string& wire_name, const std::vector<StatusItem>& items,
                            const StatusCounts& counts) {
    std::string out = "STATUS " + wire_name + " (";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ' ';
        out.append(item_name(items[i]));
        out += ' ';
        out += std::to_string(item_value(items[i], counts));
    }
    out += ')';
    return out;
}

}  // namespace postern::imap
