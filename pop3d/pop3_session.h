// Pop3Session: one POP3 client, RFC 1939 with RFC 2449 (CAPA, response
// codes), RFC 5034 (AUTH PLAIN) and RFC 2595 (STLS).
//
// States (RFC 1939 §3), changed only through enter(), which logs from -> to:
//   Authorization  USER/PASS, AUTH PLAIN, STLS, CAPA, QUIT
//   Transaction    the maildrop is locked and frozen (pop3_maildrop.h)
//   Update         after QUIT: DELE'd messages are expunged, then close.
// A dropped connection never reaches Update: nothing is deleted.
//
// Policy the dispatcher applies once (pop3_commands.cpp), so handlers never
// repeat it: the state a verb is allowed in; password commands only under
// TLS (RFC 2595 §2.1; loopback exception via auth.allow_plaintext_on_loopback);
// unknown and misplaced commands count as bad commands (then -ERR and close).
//
// Async (net/session.h): password checks, maildrop loading, message reads
// and the final expunge run on the pool; the session is suspended meanwhile,
// so pipelined commands (RFC 2449 PIPELINING) are answered in order.
// RETR/TOP stream the file (pop3_transfer.h): one chunk is read and encoded
// on the pool, then written; the next is read only once the connection is
// writable again, so memory per transfer stays near one chunk plus the write
// watermark. The first chunk carries the status line and, for a message
// that fits in one chunk, the terminator: one round trip, one write. The
// same job reads the next few messages' replies ahead (retr_read_ahead_bytes),
// so the RETRs of an in-order download are mostly answered from memory.
// Message files never change, so a reply read ahead is what a later read
// would give; one expunged meanwhile by IMAP is still served, as it would
// have been had the client asked a moment earlier.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log/secret.h"
#include "common/loop/timer.h"
#include "common/net/peer_tracker.h"
#include "common/net/session.h"
#include "pop3d/pop3_limits.h"
#include "pop3d/pop3_maildrop.h"
#include "pop3d/pop3_transfer.h"
#include "storage/login.h"

namespace postern::tls {
class TlsContext;
}

namespace postern::pop3 {

// Shared by every session of one daemon; sessions hold it by shared_ptr so
// it outlives them all. Loop thread only, except `sizes` (own mutex).
struct Pop3Context {
    std::filesystem::path data_dir;
    const tls::TlsContext* tls = nullptr;  // STLS; null: not offered
    net::PeerTracker* tracker = nullptr;
    bool allow_plaintext_on_loopback = false;
    Pop3Limits limits;
    MaildropLocks locks;
    std::shared_ptr<SizeCache> sizes = std::make_shared<SizeCache>();
    // Shared with pool jobs; auth.cache_seconds (0 disables it).
    std::shared_ptr<store::AuthCache> auth_cache =
        std::make_shared<store::AuthCache>(std::chrono::seconds{0});
};

enum class State { Authorization, Transaction, Update };
const char* to_string(State s);

class Pop3Session final : public net::Session {
  public:
    Pop3Session(net::SessionInit init, std::shared_ptr<Pop3Context> context);
    ~Pop3Session() override;

    State state() const { return state_; }

  protected:
    void on_start() override;
    void on_input() override;
    void on_writable() override;
    std::string timeout_reply() const override;
    std::string too_many_errors_reply() const override;

  private:
    enum class Outcome { Done, Pending };
    using Handler = Outcome (Pop3Session::*)(std::string_view args);
    struct CommandSpec;
    static std::span<const CommandSpec> command_table();

    void enter(State next);
    void handle_line(std::string_view line);
    bool auth_allowed();
    void bad_command(std::string_view reply);
    void reply_err_code(std::string_view code, std::string_view text);
    std::string internal_error() const;

    // pop3_commands.cpp: one handler per verb.
    Outcome cmd_capa(std::string_view args);
    Outcome cmd_user(std::string_view args);
    Outcome cmd_pass(std::string_view args);
    Outcome cmd_auth(std::string_view args);
    Outcome cmd_stls(std::string_view args);
    Outcome cmd_quit(std::string_view args);
    Outcome cmd_stat(std::string_view args);
    Outcome cmd_list(std::string_view args);
    Outcome cmd_uidl(std::string_view args);
    Outcome cmd_retr(std::string_view args);
    Outcome cmd_top(std::string_view args);
    Outcome cmd_dele(std::string_view args);
    Outcome cmd_noop(std::string_view args);
    Outcome cmd_rset(std::string_view args);

    // Login (pop3_session.cpp).
    Outcome auth_plain_response(std::string_view response);
    Outcome start_login(std::string user, Secret<std::string> password);
    void login_checked(store::LoginResult check);
    void login_failed(std::string_view reply);
    void maildrop_loaded(PoolResult<Maildrop> drop);
    // Message numbers: the message, or nullptr after an -ERR was sent.
    MaildropMessage* message_arg(std::string_view arg);
    std::string number_of(const MaildropMessage* m) const;
    // RETR/TOP streaming.
    Outcome start_transfer(std::size_t index, std::optional<std::uint64_t> body_lines);
    void first_chunk_read(std::size_t index, ChunkResult r);
    std::vector<ReadAheadCandidate> read_ahead_candidates(std::size_t index) const;
    // RETR from a reply read ahead; false if `index` was not read ahead.
    bool retr_from_read_ahead(std::size_t index);
    void read_next_chunk();
    void chunk_read(ChunkResult r);
    void update_done(PoolResult<std::size_t> removed, std::size_t wanted);
    std::uint64_t live_count() const;
    std::uint64_t live_octets() const;

    std::shared_ptr<Pop3Context> context_;
    State state_ = State::Authorization;
    std::string user_;                     // from USER, until PASS
    bool awaiting_sasl_response_ = false;  // AUTH PLAIN sent "+ "
    std::string pending_login_user_;       // while a login is in flight
    std::string locked_key_;               // the maildrop lock this session holds
    std::optional<Maildrop> maildrop_;
    std::shared_ptr<MessageTransfer> transfer_;
    std::vector<ReadAhead> ahead_;  // ascending index, at most retr_read_ahead_bytes
    bool waiting_writable_ = false;
    loop::Timer delay_timer_;
};

}  // namespace postern::pop3
