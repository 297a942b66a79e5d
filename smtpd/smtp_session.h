// SmtpSession: one SMTP connection, for both the MX (smtpd) and submission
// (submissiond); the SmtpProfile in the shared SmtpContext says which
// (STYLE.md §3). RFC 5321 with PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034),
// STARTTLS (RFC 3207), CHUNKING (RFC 3030), DSN (RFC 3461, parameters
// accepted and kept) and AUTH PLAIN/LOGIN (RFC 4954, submission only).
//
// Layers (STYLE.md §5): common/smtp parses a line into a Command; the
// dispatcher (smtp_commands.cpp) applies the rules every command shares
// from the command table - allowed states, "AUTH first", counting bad
// commands - exactly once; each cmd_* handler then checks its own policy
// and proceeds.
//
// Async contract (net/session.h, STYLE.md §9): RCPT lookups, MAIL sender
// checks (submission), password checks and the LMTP hand-off to mda run on
// the libuv pool through await(). The session is suspended meanwhile, reads
// nothing, and the completion - found by session id, dropped if the client
// has gone - writes exactly one reply and resumes, so pipelined commands
// are answered in order. No pool job ever sees the session; the message
// spool moves into the delivery job.
//
// Guarantees: the reply after DATA/BDAT LAST is positive only after mda has
// answered 250 for every recipient (its copies are fsynced). Only CRLF.CRLF
// ends DATA, and a message with a bare CR or LF is refused (no SMTP
// smuggling). Plaintext pipelined after STARTTLS is discarded unread.
// Nothing is relayed: recipients outside our domains are refused at RCPT.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/loop/timer.h"
#include "common/loop/work.h"
#include "common/net/session.h"
#include "common/smtp/smtp_command.h"
#include "common/smtp/smtp_reply.h"
#include "smtpd/lmtp_client.h"
#include "smtpd/queue_handoff.h"
#include "smtpd/relay_policy.h"
#include "smtpd/smtp_context.h"
#include "smtpd/transaction.h"
#include "storage/login.h"

namespace postern::smtp {

class SmtpSession final : public net::Session {
  public:
    enum class State {
        Init,      // connected, no EHLO/HELO yet (also after STARTTLS)
        Ready,     // greeted, no transaction
        Mail,      // MAIL accepted, no recipient yet
        Rcpt,      // at least one recipient
        Data,      // reading DATA lines
        Chunking,  // inside a BDAT sequence
        Auth,      // waiting for a SASL response line
    };

    SmtpSession(net::SessionInit init, const SmtpContext& context);
    ~SmtpSession() override;

    State state() const { return state_; }

  protected:
    void on_start() override;
    void on_input() override;
    std::string timeout_reply() const override;
    std::string too_many_errors_reply() const override;

  private:
    using Handler = void (SmtpSession::*)(const Command&);
    struct CommandSpec;
    struct SaslExchange {
        bool login = false;  // LOGIN (else PLAIN)
        std::string user;    // LOGIN: the answer to "Username:"
    };
    struct BdatChunk {
        bool last = false;
        std::optional<Reply> error;  // consume the bytes, then send this
    };

    // smtp_session.cpp
    void enter(State next);
    void reply(const Reply& r);
    void reply(int code, std::string enhanced, std::string text);
    // A refusal that counts toward max_bad_commands.
    void reply_bad(int code, std::string enhanced, std::string text);
    void reset_transaction();
    bool tls_active() { return connection().tls_active(); }
    std::string new_transaction_id();
    // Suspends and runs `blocking` on the pool; `done` runs on the loop if
    // the session still exists and must reply and resume() (or arrange to).
    template <typename R>
    void await(std::function<R()> blocking, void (SmtpSession::*done)(R));

    // smtp_commands.cpp
    void dispatch(const net::Line& line);
    Reply sequence_error(Verb verb) const;

    // cmd_hello.cpp
    void cmd_ehlo(const Command& cmd);
    void cmd_helo(const Command& cmd);
    // cmd_starttls.cpp
    void cmd_starttls(const Command& cmd);
    // cmd_auth.cpp
    void cmd_auth(const Command& cmd);
    bool auth_allowed_here();
    void on_sasl_line(const net::Line& line);
    void check_login(std::string user, Secret<std::string> password);
    void on_login_checked(store::LoginResult result);
    void reply_after_delay(std::chrono::milliseconds delay, Reply r);
    // cmd_mail.cpp
    void cmd_mail(const Command& cmd);
    void on_sender_checked(SenderVerdict verdict);
    void open_transaction(Path sender, MailParams params);
    // cmd_rcpt.cpp
    void cmd_rcpt(const Command& cmd);
    void on_recipient_looked_up(RecipientVerdict verdict);
    // cmd_data.cpp
    void cmd_data(const Command& cmd);
    void cmd_bdat(const Command& cmd);
    void on_data_line(const net::Line& line);
    void on_data_too_long();
    void on_chunk(const net::Chunk& chunk);
    void finish_chunk();
    void finish_message();
    void on_delivered(DeliveryOutcome delivery);
    void enqueue_message(std::shared_ptr<Transaction> tx, std::string prefix);
    void on_queued(QueueOutcome outcome);
    std::string trace_prefix();
    // cmd_misc.cpp
    void cmd_rset(const Command& cmd);
    void cmd_noop(const Command& cmd);
    void cmd_quit(const Command& cmd);
    void cmd_vrfy(const Command& cmd);
    void cmd_expn(const Command& cmd);
    void cmd_help(const Command& cmd);

    const SmtpContext& context_;
    State state_ = State::Init;
    std::string helo_;  // the EHLO/HELO argument
    bool esmtp_ = false;
    std::optional<std::string> user_;  // authenticated address
    std::optional<Transaction> tx_;
    std::string tx_id_;
    std::optional<TxRecipient> pending_rcpt_;  // while its lookup runs
    std::optional<std::pair<Path, MailParams>> pending_mail_;
    std::optional<SaslExchange> sasl_;
    std::string sasl_user_;  // the name being tried, for throttling
    std::optional<BdatChunk> chunk_;
    loop::Timer delay_timer_;
    std::string decoded_;             // scratch for DATA lines
    bool pipelining_logged_ = false;  // "improper-pipelining" is logged once
};

template <typename R>
void SmtpSession::await(std::function<R()> blocking, void (SmtpSession::*done)(R)) {
    suspend();
    loop::submit_work<net::Session, R>(loop(), registry(), id(), std::move(blocking),
                                       [done](net::Session& s, R result) {
                                           auto& self = static_cast<SmtpSession&>(s);
                                           (self.*done)(std::move(result));
                                       });
}

const char* state_name(SmtpSession::State state);

}  // namespace postern::smtp
