// HeaderScan: watches the header section of a message as it streams past,
// without buffering it, and records what the session must decide on at the
// end of data: how many Received fields (loop detection, RFC 5321 §6.3) and
// whether Message-ID and Date are present (submission adds them, RFC 6409
// §8.2 and §8.3).
//
// The header section ends at the first empty line (RFC 5322 §2.1). Field
// names are matched case-insensitively; continuation lines (leading WSP) are
// skipped. CR is ignored, so CRLF and bare LF line ends both work (BDAT
// bodies are not dot-decoded and may carry either).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::smtp {

class HeaderScan {
  public:
    void feed(std::string_view bytes);

    bool in_header() const { return in_header_; }
    std::size_t received_count() const { return received_; }
    bool has_message_id() const { return message_id_; }
    bool has_date() const { return date_; }

  private:
    // RFC 5322 field names have no length limit, but the ones we look for
    // are short; longer names are simply not ours.
    static constexpr std::size_t kMaxNameBytes = 32;
    enum class Name { Reading, Done };

    void step(char c);
    void finish_name();

    bool in_header_ = true;
    bool line_start_ = true;
    Name name_state_ = Name::Done;
    std::string name_;
    std::size_t received_ = 0;
    bool message_id_ = false;
    bool date_ = false;
};

}  // namespace postern::smtp
