// LmtpSession: the LMTP server (RFC 2033) that smtpd and submissiond hand
// local mail to, on a unix socket.
//
// Grammar comes from common/smtp (parse_command, DotDecoder, Reply); this
// file owns only the state machine:
//   Fresh --LHLO--> Ready --MAIL--> Mail --RCPT(ok)--> Mail --DATA--> Data
//   Data --<CRLF>.<CRLF>--> (deliver, suspended) --> Ready
// - LHLO is required first (RFC 2033 §4.1); HELO/EHLO get 500 5.5.1.
// - Advertised: PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SMTPUTF8, SIZE.
//   BDAT/CHUNKING is not offered.
// - RCPT is resolved on the pool: 250 2.1.5, or the refusal (550 5.1.1 ...).
// - After the final dot: exactly one reply per accepted RCPT, in RCPT order
//   (RFC 2033 §4.2), each the outcome of that recipient's durable delivery.
// - DATA is decoded in raw mode (DotDecoder; only CRLF.CRLF ends it) into a
//   buffer bounded by max_message_bytes: past it the rest is read and
//   dropped and every recipient gets 552 5.3.4; nothing is written. Bytes
//   the decoder sees as bare CR/LF are kept as they came (this is the last
//   hop: nothing downstream can misread them), never rewritten.
// - A connection that drops before the final dot delivers nothing.
//
// Async (net/session.h): RCPT and end-of-data suspend the session and run on
// the pool through loop::submit_work; the completion finds the session by id
// and writes that command's reply (replies), then resume(). Pipelined
// commands wait in the reader meanwhile, so replies leave in command order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/net/session.h"
#include "common/smtp/dot_stream.h"
#include "common/smtp/smtp_command.h"
#include "common/smtp/smtp_reply.h"
#include "mda/delivery_backend.h"

namespace postern::mda {

struct LmtpSettings {
    std::string hostname = "localhost";
    std::uint64_t max_message_bytes = 50u << 20;  // smtp.max_message_bytes; SIZE
    std::size_t max_recipients = 100;             // smtp.max_recipients; then 452 4.5.3
};

class LmtpSession final : public net::Session {
  public:
    LmtpSession(net::SessionInit init, const LmtpSettings& settings,
                std::shared_ptr<DeliveryBackend> backend);

  protected:
    void on_start() override;
    void on_input() override;
    std::string timeout_reply() const override { return "421 4.4.2 Idle timeout, closing"; }
    std::string too_many_errors_reply() const override {
        return "421 4.7.0 Too many errors, closing";
    }

  private:
    enum class State { Fresh, Ready, Mail, Data };
    // One MAIL..end-of-data transaction (STYLE.md §7).
    struct Transaction {
        Envelope envelope;
        bool smtputf8 = false;
        std::optional<smtp::DotDecoder> decoder;
        std::string body;
    };

    void enter(State next);
    void reply(const smtp::Reply& r);
    void reply(int code, std::string enhanced, std::string text);
    // Returns false when input processing must stop (suspended or closing).
    bool handle_line(const net::Line& line);
    bool dispatch(const smtp::Command& cmd);
    bool cmd_lhlo(const smtp::Command& cmd);
    bool cmd_mail(const smtp::Command& cmd);
    bool cmd_rcpt(const smtp::Command& cmd);
    bool cmd_data();
    bool pump_data();
    void finish_data();
    void complete_rcpt(const std::string& address, const Outcome& outcome);
    void complete_data(const std::vector<RecipientResult>& results);

    LmtpSettings settings_;
    std::shared_ptr<DeliveryBackend> backend_;
    State state_ = State::Fresh;
    std::optional<Transaction> tx_;
};

}  // namespace postern::mda
