#include "smtpd/smtp_header_scan.h"

#include "common/base/ascii.h"

namespace postern::smtp {

void HeaderScan::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (!in_header_) return;
        step(c);
    }
}

void HeaderScan::step(char c) {
    if (c == '\r') return;
    if (c == '\n') {
        if (line_start_) in_header_ = false;  // the empty line
        line_start_ = true;
        name_state_ = Name::Done;
        return;
    }
    if (line_start_) {
        line_start_ = false;
        name_.clear();
        // Leading WSP: a continuation of the previous field.
        name_state_ = (c == ' ' || c == '\t') ? Name::Done : Name::Reading;
        if (name_state_ == Name::Done) return;
    }
    if (name_state_ != Name::Reading) return;
    if (c == ':') {
        finish_name();
        name_state_ = Name::Done;
        return;
    }
    if (name_.size() < kMaxNameBytes) name_ += ascii_lower(c);
}

void HeaderScan::finish_name() {
    // RFC 5322 obsolete syntax allows WSP before the colon.
    std::string_view name = trim(name_);
    if (name == "received") ++received_;
    if (name == "message-id") message_id_ = true;
    if (name == "date") date_ = true;
}

}  // namespace postern::smtp
