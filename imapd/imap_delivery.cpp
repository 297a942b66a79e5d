#include "imapd/imap_delivery.h"

#include "imapd/search_result.h"

namespace postern::imap {

store::StoreResult<std::uint32_t> deliver_to_mailbox(const Account& account,
                                                     store::MailboxIndex& index,
                                                     const DeliveryRequest& request,
                                                     std::string_view message) {
    store::Recipient r;
    r.paths = account.paths;
    r.mailbox = request.mailbox;
    r.flags = request.flags;
    r.quota_bytes = account.quota.bytes;
    r.quota_messages = account.quota.messages;
    store::DeliveryOptions options;
    options.max_message_bytes = request.max_bytes;
    options.internal_date = request.internal_date;
    auto writer = store::MessageWriter::begin({r}, options, {&index});
    if (!writer) return fail(writer.error());
    auto wrote = writer->write(message);
    if (!wrote) return fail(wrote.error());
    writer->set_summary(request.summary);
    auto delivered = writer->commit();
    if (!delivered) return fail(delivered.error());
    if (delivered->empty()) return store::store_fail(store::StoreError::Temp, "no delivery");
    return delivered->front().uid;
}

std::string uid_set_text(const std::vector<std::uint32_t>& uids) {
    return sequence_set_text(uids);
}

}  // namespace postern::imap
