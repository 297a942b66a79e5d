#include "common/net/connection.h"

#include <array>
#include <utility>

#include "common/log/log.h"
#include "common/tls/tls_stream.h"

namespace postern::net {
namespace {

// One libuv read is consumed (fed to the reader or the TLS stream) before
// the next starts, so a single loop-wide buffer serves every connection and
// an idle connection holds no read buffer at all.
constexpr std::size_t kReadBufferBytes = 64u << 10;
std::array<char, kReadBufferBytes> g_read_buffer;

struct WriteRequest {
    uv_write_t req{};
    std::string data;
};

struct ConnectRequest {
    uv_connect_t req{};
    std::function<void(Status)> done;
    Address to;
};

using StreamHandlePtr = loop::Handle<StreamHandle>;

}  // namespace

Connection::Connection(loop::Loop& loop, const ConnectionLimits& limits)
    : loop_(loop), limits_(limits), reader_(limits.max_line_bytes) {}

Connection::~Connection() = default;

Connection* Connection::owner_of(uv_handle_t* h) {
    return static_cast<Connection*>(StreamHandlePtr::from(h)->owner());
}

Status Connection::init_handle(Kind kind) {
    kind_ = kind;
    handle_ = loop_.make<StreamHandle>();
    int rc = kind == Kind::Tcp ? uv_tcp_init(loop_.native(), &handle_->get()->tcp)
                               : uv_pipe_init(loop_.native(), &handle_->get()->pipe, 0);
    if (rc < 0) return fail(std::string("stream init: ") + uv_strerror(rc));
    handle_->mark_initialised();
    handle_->set_owner(this);
    return {};
}

Status Connection::accept_from(uv_stream_t* server, Kind kind, const std::string& unix_path) {
    if (auto st = init_handle(kind); !st) return st;
    int rc = uv_accept(server, handle_->stream());
    if (rc < 0) return fail(std::string("accept: ") + uv_strerror(rc));
    if (kind == Kind::Unix) {
        peer_ = Address::unix_path(unix_path);
        return {};
    }
    sockaddr_storage ss{};
    int len = sizeof ss;
    rc = uv_tcp_getpeername(&handle_->get()->tcp, reinterpret_cast<sockaddr*>(&ss), &len);
    if (rc < 0) return fail(std::string("getpeername: ") + uv_strerror(rc));
    auto addr =
        Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len));
    if (!addr) return fail(addr.error());
    peer_ = *addr;
    uv_tcp_nodelay(&handle_->get()->tcp, 1);
    return {};
}

void Connection::connect(const Address& to, std::function<void(Status)> done) {
    if (auto st = init_handle(Kind::Tcp); !st) {
        done(st);
        return;
    }
    auto* req = new ConnectRequest{{}, std::move(done), to};
    req->req.data = req;
    int rc = uv_tcp_connect(
        &req->req, &handle_->get()->tcp, to.sockaddr_ptr(), [](uv_connect_t* r, int status) {
            std::unique_ptr<ConnectRequest> cr(static_cast<ConnectRequest*>(r->data));
            auto* self = owner_of(reinterpret_cast<uv_handle_t*>(r->handle));
            if (self == nullptr) return;
            if (status < 0) {
                cr->done(fail("connect " + cr->to.to_string() + ": " + uv_strerror(status)));
                return;
            }
            self->peer_ = cr->to;
            cr->done({});
        });
    if (rc < 0) {
        auto cb = std::move(req->done);
        delete req;
        cb(fail("connect " + to.to_string() + ": " + uv_strerror(rc)));
    }
}

void Connection::set_reading(bool wanted) {
    reading_wanted_ = wanted;
    if (wanted) started_ = true;
    update_reading();
}

void Connection::update_reading() {
    if (!handle_ || handle_closing_) return;
    // While input is not wanted (a command is pending) keep reading until a
    // line's worth is held, so a client that disconnects is still noticed.
    bool holding = !reading_wanted_ && reader_.buffered_bytes() < limits_.max_line_bytes;
    bool want = started_ && (reading_wanted_ || holding) && !backpressured_ && !closing_;
    if (want == reading_) return;
    if (want) {
        if (uv_read_start(handle_->stream(), &Connection::on_alloc, &Connection::on_read) < 0) {
            abort("read-start-failed");
            return;
        }
    } else {
        uv_read_stop(handle_->stream());
    }
    reading_ = want;
}

void Connection::on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
    *buf = uv_buf_init(g_read_buffer.data(), static_cast<unsigned>(g_read_buffer.size()));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    auto* self = owner_of(reinterpret_cast<uv_handle_t*>(s));
    if (self == nullptr || nread == 0) return;
    if (nread < 0) {
        self->abort(nread == UV_EOF
                        ? "client-disconnected"
                        : std::string("read-error: ") + uv_strerror(static_cast<int>(nread)));
        return;
    }
    self->bytes_read_ += static_cast<std::uint64_t>(nread);
    std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
    if (self->tls_) {
        self->handle_tls_bytes(bytes);
    } else {
        self->handle_bytes(bytes);
    }
}

void Connection::handle_bytes(std::string_view bytes) {
    reader_.feed(bytes);
    if (!reading_wanted_) {
        update_reading();  // held for later; stop once a line's worth is held
        return;
    }
    if (callbacks_.on_input) callbacks_.on_input();
}

void Connection::handle_tls_bytes(std::string_view bytes) {
    bool was_open = tls_->handshake_done();
    Status st = tls_->feed_ciphertext(bytes);
    flush_tls();  // handshake messages or the alert for a failure
    if (!st || tls_->state() == tls::TlsStream::State::Failed) {
        log::info("tls-failed").kv("peer", peer_.peer_string()).kv("error", tls_->failure());
        abort("tls-failed");
        return;
    }
    if (!was_open && tls_->handshake_done()) {
        if (!pending_plaintext_.empty()) {
            write(std::exchange(pending_plaintext_, {}));
        }
        if (callbacks_.on_tls_ready) callbacks_.on_tls_ready();
        if (closing_ || !tls_) return;
    }
    std::string plain;
    while (tls_->read_plaintext(plain) > 0) {
    }
    flush_tls();
    if (tls_->state() == tls::TlsStream::State::Failed) {
        abort("tls-bad-record");
        return;
    }
    bool peer_closed = tls_->state() == tls::TlsStream::State::Closed;
    if (!plain.empty()) handle_bytes(plain);
    if (peer_closed && !closing_) close("client-close-notify");
    maybe_release_tls_buffers();
}

void Connection::flush_tls() {
    std::string out = tls_->take_ciphertext();
    if (!out.empty()) send_raw(std::move(out));
}

void Connection::write(std::string_view bytes) {
    if (closing_ || !handle_ || bytes.empty()) return;
    if (tls_) {
        if (!tls_->handshake_done()) {
            pending_plaintext_.append(bytes);
            return;
        }
        if (!tls_->write_plaintext(bytes)) {
            abort("tls-write-failed");
            return;
        }
        flush_tls();
    } else {
        send_raw(std::string(bytes));
    }
    if (queued_bytes_ > limits_.write_high_watermark_bytes + kMaxQueueOverHighBytes) {
        abort("output-overflow");
        return;
    }
    if (!backpressured_ && !writable()) {
        backpressured_ = true;
        update_reading();
    }
}

void Connection::send_raw(std::string data) {
    if (!handle_ || handle_closing_ || data.empty()) return;
    auto* w = new WriteRequest{{}, std::move(data)};
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    std::size_t size = w->data.size();
    queued_bytes_ += size;
    int rc = uv_write(&w->req, handle_->stream(), &buf, 1, &Connection::on_write);
    if (rc < 0) {
        queued_bytes_ -= size;
        delete w;
        abort(std::string("write-error: ") + uv_strerror(rc));
    }
}

void Connection::on_write(uv_write_t* req, int status) {
    std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
    auto* self = owner_of(reinterpret_cast<uv_handle_t*>(req->handle));
    if (self != nullptr) self->on_write_done(w->data.size(), status);
}

void Connection::on_write_done(std::size_t size, int status) {
    queued_bytes_ -= size;
    if (status == UV_ECANCELED) return;
    if (status < 0) {
        abort(std::string("write-error: ") + uv_strerror(status));
        return;
    }
    bytes_written_ += size;
    if (closing_) {
        if (queued_bytes_ == 0) finish_close();
        return;
    }
    if (backpressured_ && queued_bytes_ <= limits_.write_low_watermark_bytes) {
        backpressured_ = false;
        update_reading();
        if (callbacks_.on_writable) callbacks_.on_writable();
    }
    if (queued_bytes_ == 0) maybe_release_tls_buffers();
}

void Connection::maybe_release_tls_buffers() {
    if (tls_ && tls_->handshake_done() && queued_bytes_ == 0 && reader_.buffered_bytes() == 0) {
        tls_->release_buffers();
    }
}

void Connection::start_tls_server(SSL_CTX* ctx) {
    tls_ = tls::TlsStream::server(ctx);
}

std::size_t Connection::start_tls(SSL_CTX* ctx) {
    // RFC 3207 §4.2 / CVE-2011-0411: nothing the client sent before the
    // handshake may be acted on afterwards.
    std::size_t dropped = reader_.discard_buffered();
    tls_ = tls::TlsStream::server(ctx);
    return dropped;
}

void Connection::start_tls_client(SSL_CTX* ctx, std::string_view sni) {
    reader_.discard_buffered();
    tls_ = tls::TlsStream::client(ctx, sni);
    flush_tls();
}

bool Connection::tls_open() const {
    return tls_ && tls_->handshake_done();
}

std::string Connection::tls_description() const {
    return tls_ ? tls_->describe() : std::string();
}

void Connection::close(std::string reason) {
    if (closing_) return;
    closing_ = true;
    close_reason_ = std::move(reason);
    update_reading();
    if (tls_ && tls_->handshake_done()) {
        tls_->shutdown();
        flush_tls();
    }
    if (queued_bytes_ == 0) {
        finish_close();
        return;
    }
    linger_ = std::make_unique<loop::Timer>(loop_);
    linger_->start(kCloseLinger, [this] { finish_close(); });
}

void Connection::abort(std::string reason) {
    if (!closing_) {
        closing_ = true;
        close_reason_ = std::move(reason);
    }
    finish_close();
}

void Connection::finish_close() {
    if (handle_closing_) return;
    handle_closing_ = true;
    linger_.reset();
    if (!handle_) {
        // Never opened: nothing for libuv to release.
        if (callbacks_.on_closed) callbacks_.on_closed(close_reason_);
        return;
    }
    handle_->close([this] {
        // The Handle's memory is already freed; forget it without touching it.
        (void)handle_.release();
        auto on_closed = callbacks_.on_closed;
        std::string reason = close_reason_;
        // on_closed may destroy this Connection: nothing below touches it.
        if (on_closed) on_closed(reason);
    });
}

}  // namespace postern::net
