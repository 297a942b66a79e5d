#include "common/net/listener.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log/log.h"
#include "common/tls/tls_context.h"

namespace postern::net {
namespace {

constexpr std::string_view kUnixPrefix = "unix:";
// Unix sockets are not counted per IP; all share this key.
const std::string kUnixPeerKey = "unix";

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

Result<int> open_tcp(const Address& a) {
    int fd =
        ::socket(a.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(errno_text("socket " + a.to_string()));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // [::]:25 must not also claim 0.0.0.0:25; both are listed explicitly.
    if (a.is_v6()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, a.sockaddr_ptr(), a.sockaddr_len()) < 0 ||
        ::listen(fd, Listener::kBacklog) < 0) {
        auto err = errno_text("bind " + a.to_string());
        ::close(fd);
        return fail(err);
    }
    return fd;
}

Result<int> open_unix(const std::string& path, unsigned mode) {
    sockaddr_un sun{};
    if (path.empty() || path.size() >= sizeof sun.sun_path)
        return fail("bad unix socket path '" + path + "'");
    // A socket file left by a previous run would make bind fail; remove it,
    // but never anything that is not a socket.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return fail("'" + path + "' exists and is not a socket");
        ::unlink(path.c_str());
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(errno_text("socket " + path));
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0 ||
        ::chmod(path.c_str(), static_cast<mode_t>(mode)) < 0 ||
        ::listen(fd, Listener::kBacklog) < 0) {
        auto err = errno_text("bind unix:" + path);
        ::close(fd);
        return fail(err);
    }
    return fd;
}

Result<Address> bound_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        return fail(errno_text("getsockname"));
    return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

Listener::Listener(loop::Loop& loop, ListenerSpec spec)
    : loop_(loop), spec_(std::move(spec)), rng_(std::random_device{}()) {
    if (spec_.tracker == nullptr) own_tracker_ = std::make_unique<PeerTracker>();
    tracker_ = spec_.tracker != nullptr ? spec_.tracker : own_tracker_.get();
}

Listener::~Listener() {
    for (auto& s : sockets_) {
        if (!s->handle && s->fd >= 0) ::close(s->fd);
    }
}

Result<std::unique_ptr<Listener>> Listener::bind(loop::Loop& loop, ListenerSpec spec) {
    std::unique_ptr<Listener> l(new Listener(loop, std::move(spec)));
    if (l->spec_.addresses.empty()) return fail("listener " + l->spec_.name + ": no addresses");
    for (const auto& text : l->spec_.addresses) {
        if (auto st = l->bind_one(text); !st) return fail(st.error());
    }
    return l;
}

Status Listener::bind_one(const std::string& text) {
    if (text.starts_with(kUnixPrefix)) {
        std::string path = text.substr(kUnixPrefix.size());
        auto fd = open_unix(path, spec_.unix_mode);
        if (!fd) return fail(fd.error());
        auto addr = Address::unix_path(path);
        sockets_.push_back(std::make_unique<Socket>(Socket{*fd, addr, true, this, {}}));
        bound_.push_back(addr);
        return {};
    }
    auto ep = parse_endpoint(text);
    if (!ep) return fail(ep.error());
    auto addrs = resolve(*ep);
    if (!addrs) return fail(addrs.error());
    for (const auto& a : *addrs) {
        auto fd = open_tcp(a);
        if (!fd) return fail(fd.error());
        auto actual = bound_address(*fd);
        if (!actual) {
            ::close(*fd);
            return fail(actual.error());
        }
        sockets_.push_back(std::make_unique<Socket>(Socket{*fd, *actual, false, this, {}}));
        bound_.push_back(*actual);
    }
    return {};
}

Status Listener::serve() {
    for (auto& s : sockets_) {
        if (s->handle) continue;
        s->handle = loop_.make<StreamHandle>();
        int rc = s->is_unix ? uv_pipe_init(loop_.native(), &s->handle->get()->pipe, 0)
                            : uv_tcp_init(loop_.native(), &s->handle->get()->tcp);
        if (rc == 0) s->handle->mark_initialised();
        if (rc == 0) {
            rc = s->is_unix ? uv_pipe_open(&s->handle->get()->pipe, s->fd)
                            : uv_tcp_open(&s->handle->get()->tcp, s->fd);
        }
        s->handle->set_owner(s.get());
        if (rc == 0) rc = uv_listen(s->handle->stream(), kBacklog, &Listener::on_connection);
        if (rc < 0) return fail("listen " + s->address.to_string() + ": " + uv_strerror(rc));
        log::info("listening").kv("service", spec_.name).kv("address", s->address.to_string());
    }
    return {};
}

void Listener::stop_accepting() {
    for (auto& s : sockets_) {
        if (s->handle) {
            s->handle.reset();  // closes the fd in libuv's close callback
        } else if (s->fd >= 0) {
            ::close(s->fd);
        }
        s->fd = -1;
    }
}

void Listener::close_all(std::string_view line, const std::string& reason) {
    // Closing is asynchronous; sessions leave the map from their close callbacks.
    for (auto& [id, session] : sessions_)
        session->close_with_reply(line, reason);
}

Session* Listener::find_session(SessionId id) {
    auto it = sessions_.find(id);
    return it == sessions_.end() || it->second->closing() ? nullptr : it->second.get();
}

void Listener::on_connection(uv_stream_t* server, int status) {
    auto* handle = loop::Handle<StreamHandle>::from(reinterpret_cast<uv_handle_t*>(server));
    auto* socket = static_cast<Socket*>(handle->owner());
    if (socket == nullptr) return;
    if (status < 0) {
        log::warn("accept-failed").kv("error", uv_strerror(status));
        return;
    }
    socket->listener->accept_one(*socket);
}

void Listener::accept_one(Socket& socket) {
    auto conn = std::make_unique<Connection>(loop_, spec_.limits);
    auto kind = socket.is_unix ? Connection::Kind::Unix : Connection::Kind::Tcp;
    if (auto st = conn->accept_from(socket.handle->stream(), kind, socket.address.ip_string());
        !st) {
        log::warn("accept-failed").kv("service", spec_.name).kv("error", st.error().message);
        drop(std::move(conn), "accept-failed", false);
        return;
    }
    if (sessions_.size() >= spec_.limits.max_connections_total) {
        drop(std::move(conn), "too-many-connections", true);
        return;
    }
    std::string key = socket.is_unix ? kUnixPeerKey : conn->peer().ip_string();
    if (!socket.is_unix && !tracker_->try_connect(key, spec_.limits.max_connections_per_ip)) {
        drop(std::move(conn), "too-many-connections-from-ip", true);
        return;
    }
    SessionId id = new_session_id();
    SessionInit init{
        .loop = &loop_,
        .registry = this,
        .id = id,
        .limits = spec_.limits,
        .connection = std::move(conn),
        .implicit_tls = spec_.implicit_tls != nullptr ? spec_.implicit_tls->native() : nullptr,
    };
    auto session = spec_.factory(std::move(init));
    if (!socket.is_unix) key_by_session_[id] = key;
    session->set_on_finished([this](SessionId done) { finished(done); });
    Session* raw = session.get();
    sessions_.emplace(id, std::move(session));
    raw->start();
}

void Listener::drop(std::unique_ptr<Connection> conn, const char* reason, bool reply) {
    if (reply) {
        log::info("refused")
            .kv("service", spec_.name)
            .kv("peer", conn->peer().peer_string())
            .kv("reason", reason);
    }
    // Kept until libuv has closed the handle; erased from its close callback.
    std::uint64_t key = next_refusal_++;
    Connection& c = *conn;
    refusing_.emplace(key, std::move(conn));
    c.set_callbacks(ConnectionCallbacks{
        .on_input = {},
        .on_writable = {},
        .on_tls_ready = {},
        .on_closed = [this, key](const std::string&) { refusing_.erase(key); },
    });
    // Under a flood of refusals, stop spending writes on them.
    if (reply && refusing_.size() <= kMaxRefusing) c.write(spec_.refusal_line);
    c.close(reason);  // may erase `c` at once: nothing below touches it
}

SessionId Listener::new_session_id() {
    for (;;) {
        SessionId id = rng_();
        if (id != 0 && !sessions_.contains(id)) return id;
    }
}

void Listener::finished(SessionId id) {
    if (auto it = key_by_session_.find(id); it != key_by_session_.end()) {
        tracker_->disconnect(it->second);
        key_by_session_.erase(it);
    }
    sessions_.erase(id);
}

}  // namespace postern::net
