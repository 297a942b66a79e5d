// Transaction: the lifetime of one message, from MAIL FROM to the reply
// after its data (STYLE.md §7). The session holds it in
// std::optional<Transaction>: MAIL creates it, RSET / EHLO / STARTTLS /
// the end of data reset it. Nothing here does I/O besides the spool.
//
// Body bytes arrive either through DATA (dot-decoded, terminated only by
// CRLF.CRLF, see common/smtp/dot_stream.h) or BDAT chunks (counted, raw);
// both end up in add_body(), which feeds the header scan, enforces the size
// limit and spools.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/smtp/dot_stream.h"
#include "common/smtp/smtp_address.h"
#include "common/smtp/smtp_params.h"
#include "smtpd/smtp_header_scan.h"
#include "smtpd/smtp_spool.h"

namespace postern::smtp {

struct TxRecipient {
    std::string address;  // wire form "local@domain", as the client spelt it
    RcptParams params;    // NOTIFY / ORCPT: kept for the queue's DSNs
    bool remote = false;  // not a local domain: only via the outbound queue
};

class Transaction {
  public:
    Transaction(Path sender, MailParams params, Spool spool, std::uint64_t max_message_bytes);

    const Path& sender() const { return sender_; }
    const MailParams& params() const { return params_; }

    // False (and nothing added) when the address is already a recipient:
    // RFC 5321 §3.3 lets the server treat duplicates as one.
    bool add_recipient(TxRecipient recipient);
    const std::vector<TxRecipient>& recipients() const { return recipients_; }

    // DATA: the decoder for the body lines.
    DotDecoder& begin_data();
    DotDecoder* data() { return dot_ ? &*dot_ : nullptr; }
    // BDAT: raw chunk bytes. Past the size limit they are counted, not kept.
    void add_chunk(std::string_view bytes);
    std::uint64_t chunk_bytes() const { return chunk_bytes_; }
    bool chunking() const { return chunking_; }
    void set_chunking() { chunking_ = true; }

    // Decoded body bytes, from either path.
    void add_body(std::string_view bytes);
    bool too_big() const { return too_big_; }
    void set_line_too_long() { line_too_long_ = true; }
    bool line_too_long() const { return line_too_long_; }
    // The spool failed (disk): the message gets a temporary failure.
    const std::optional<std::string>& spool_error() const { return spool_error_; }

    const HeaderScan& headers() const { return headers_; }
    Spool& spool() { return spool_; }
    const Spool& spool() const { return spool_; }

  private:
    Path sender_;
    MailParams params_;
    std::vector<TxRecipient> recipients_;
    Spool spool_;
    std::uint64_t max_message_bytes_;
    HeaderScan headers_;
    std::optional<DotDecoder> dot_;
    std::uint64_t chunk_bytes_ = 0;
    bool chunking_ = false;
    bool too_big_ = false;
    bool line_too_long_ = false;
    std::optional<std::string> spool_error_;
};

}  // namespace postern::smtp
