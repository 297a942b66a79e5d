// Listener: binds a list of addresses (TCP on IPv4/IPv6, or a unix socket
// for LMTP), accepts connections, enforces the total and per-IP connection
// caps, and owns the sessions.
//
// Two steps so a daemon can bind privileged ports as root, drop privileges,
// and only then run protocol code (STYLE.md §2):
//   auto l = Listener::bind(loop, spec);   // sockets bound and listening
//   ... drop privileges ...
//   l->serve();                            // connections reach sessions
// Until serve(), clients wait in the kernel's accept queue.
//
// Over a cap, the new connection gets spec.refusal_line (the protocol's own:
// "421 4.7.0 Too many connections\r\n", "* BYE Too many connections\r\n") and
// is closed; no session is created.
//
// Sessions live in an unordered_map<SessionId, unique_ptr<Session>> and are
// erased only after their connection has reported closed. Destroying the
// Listener (shutdown) drops its sessions; libuv frees their handles later.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/result.h"
#include "common/loop/loop.h"
#include "common/net/address.h"
#include "common/net/conn_limits.h"
#include "common/net/peer_tracker.h"
#include "common/net/session.h"

namespace postern::tls {
class TlsContext;
}

namespace postern::net {

using SessionFactory = std::function<std::unique_ptr<Session>(SessionInit)>;

struct ListenerSpec {
    std::string name;  // for logs: "smtp", "submissions", "lmtp"
    // "127.0.0.1:25", "[::1]:25", "localhost:25", "*:25", or "unix:/path".
    std::vector<std::string> addresses;
    ConnectionLimits limits;
    std::string refusal_line;  // with its CRLF
    SessionFactory factory;
    // Implicit TLS (465/993/995); null for plaintext / STARTTLS listeners.
    // Not owned; read at each accept, so a reload applies to new sessions.
    const tls::TlsContext* implicit_tls = nullptr;
    // Shared between listeners of one daemon for a per-IP cap across ports;
    // null: the listener keeps its own.
    PeerTracker* tracker = nullptr;
    unsigned unix_mode = 0660;  // LMTP socket: owner and group only
};

class Listener final : public SessionRegistry {
  public:
    // Listen backlog; the kernel caps it at net.core.somaxconn.
    static constexpr int kBacklog = 511;
    // Refusals in flight beyond this are dropped without a reply.
    static constexpr std::size_t kMaxRefusing = 64;

    static Result<std::unique_ptr<Listener>> bind(loop::Loop& loop, ListenerSpec spec);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    Status serve();
    // Drain: stop accepting; running sessions continue.
    void stop_accepting();
    // Closes every session with `line` (may be empty).
    void close_all(std::string_view line, const std::string& reason);

    // The addresses actually bound (port 0 resolved to the kernel's choice).
    const std::vector<Address>& bound() const { return bound_; }
    Session* find_session(SessionId id) override;
    std::size_t session_count() const { return sessions_.size(); }
    PeerTracker& tracker() { return *tracker_; }

  private:
    struct Socket {
        int fd = -1;
        Address address;
        bool is_unix = false;
        Listener* listener = nullptr;
        loop::HandlePtr<StreamHandle> handle;
    };

    Listener(loop::Loop& loop, ListenerSpec spec);
    Status bind_one(const std::string& text);
    static void on_connection(uv_stream_t* server, int status);
    void accept_one(Socket& socket);
    // Closes a connection that gets no session (over a cap, or a failed
    // accept), with the refusal line when `reply`.
    void drop(std::unique_ptr<Connection> conn, const char* reason, bool reply);
    SessionId new_session_id();
    void finished(SessionId id);

    loop::Loop& loop_;
    ListenerSpec spec_;
    std::unique_ptr<PeerTracker> own_tracker_;
    PeerTracker* tracker_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    std::vector<Address> bound_;
    std::unordered_map<SessionId, std::unique_ptr<Session>> sessions_;
    std::unordered_map<SessionId, std::string> key_by_session_;  // for the per-IP count
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> refusing_;
    std::uint64_t next_refusal_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace postern::net
