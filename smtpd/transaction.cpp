#include "smtpd/transaction.h"

#include <utility>

#include "common/base/ascii.h"

namespace postern::smtp {

Transaction::Transaction(Path sender, MailParams params, Spool spool,
                         std::uint64_t max_message_bytes)
    : sender_(std::move(sender)),
      params_(std::move(params)),
      spool_(std::move(spool)),
      max_message_bytes_(max_message_bytes) {}

bool Transaction::add_recipient(TxRecipient recipient) {
    for (const auto& r : recipients_) {
        if (iequals(r.address, recipient.address)) return false;
    }
    recipients_.push_back(std::move(recipient));
    return true;
}

DotDecoder& Transaction::begin_data() {
    dot_.emplace(max_message_bytes_);
    return *dot_;
}

void Transaction::add_chunk(std::string_view bytes) {
    chunk_bytes_ += bytes.size();
    if (chunk_bytes_ > max_message_bytes_) too_big_ = true;
    if (!too_big_) add_body(bytes);
}

void Transaction::add_body(std::string_view bytes) {
    headers_.feed(bytes);
    if (spool_error_) return;
    if (auto st = spool_.append(bytes); !st) spool_error_ = st.error().message;
}

}  // namespace postern::smtp
