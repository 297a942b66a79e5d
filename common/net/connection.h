// Connection: one byte stream (TCP or unix socket, server or client side),
// optionally under TLS. It owns the libuv handle, the read side's LineReader
// and the write queue; it knows nothing about protocols.
//
// Guarantees:
// - Backpressure: when more than write_high_watermark_bytes are queued the
//   connection stops reading (a client that does not read our output cannot
//   make us do more work); writable() turns false so producers pause, and
//   on_writable fires once the queue falls to the low watermark. A producer
//   that ignores writable() and queues kMaxQueueOverHighBytes more is cut off.
// - close(reason) is graceful: stop reading, send TLS close_notify, flush the
//   queue (at most kCloseLinger), then close. abort(reason) closes now.
//   on_closed fires exactly once, from libuv's close callback; it is the
//   moment the owner may destroy the Connection (and not before, or libuv
//   would still hold its handle).
// - STARTTLS: start_tls() DISCARDS every plaintext byte already received
//   after the command; it is never parsed (CVE-2011-0411).
// - TLS buffers are released whenever the connection goes idle.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "common/base/result.h"
#include "common/loop/loop.h"
#include "common/loop/timer.h"
#include "common/net/address.h"
#include "common/net/conn_limits.h"
#include "common/net/line_reader.h"

namespace postern::tls {
class TlsStream;
}

namespace postern::net {

// Storage for either kind of stream handle.
union StreamHandle {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
};

struct ConnectionCallbacks {
    std::function<void()> on_input;                            // reader() has new bytes
    std::function<void()> on_writable;                         // queue back under low watermark
    std::function<void()> on_tls_ready;                        // handshake completed
    std::function<void(const std::string& reason)> on_closed;  // handle fully closed
};

class Connection {
  public:
    enum class Kind { Tcp, Unix };
    // A client that keeps its receive window shut gets this long to take our
    // last reply before we close anyway.
    static constexpr std::chrono::milliseconds kCloseLinger{10000};
    // Beyond the high watermark, the most a misbehaving producer may queue.
    static constexpr std::size_t kMaxQueueOverHighBytes = 16u << 20;

    Connection(loop::Loop& loop, const ConnectionLimits& limits);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Server side: accept the pending connection on a listening handle.
    Status accept_from(uv_stream_t* server, Kind kind, const std::string& unix_path = {});
    // Client side (outbound SMTP): TCP connect; done runs on the loop thread
    // unless the Connection was destroyed first.
    void connect(const Address& to, std::function<void(Status)> done);

    void set_callbacks(ConnectionCallbacks callbacks) { callbacks_ = std::move(callbacks); }

    // Whether on_input may fire (off while a command is pending). While off,
    // bytes are still read and held, up to max_line_bytes, so a disconnect is
    // noticed; reading stops under backpressure and after close().
    void set_reading(bool wanted);
    LineReader& reader() { return reader_; }
    const Address& peer() const { return peer_; }

    void write(std::string_view bytes);
    std::size_t queued_bytes() const { return queued_bytes_; }
    bool writable() const { return queued_bytes_ < limits_.write_high_watermark_bytes; }

    // Implicit TLS (ports 465/993/995): call before the first read.
    void start_tls_server(SSL_CTX* ctx);
    // STARTTLS after our "go ahead" reply was written. Returns the number of
    // pipelined plaintext bytes discarded (log them).
    std::size_t start_tls(SSL_CTX* ctx);
    // Client side STARTTLS / TLS-on-connect.
    void start_tls_client(SSL_CTX* ctx, std::string_view sni);
    bool tls_active() const { return tls_ != nullptr; }
    bool tls_open() const;
    std::string tls_description() const;

    void close(std::string reason);
    void abort(std::string reason);
    bool closing() const { return closing_; }

    std::uint64_t bytes_read() const { return bytes_read_; }
    std::uint64_t bytes_written() const { return bytes_written_; }

  private:
    static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
    static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
    static void on_write(uv_write_t* req, int status);
    static Connection* owner_of(uv_handle_t* h);

    Status init_handle(Kind kind);
    void update_reading();
    void handle_bytes(std::string_view bytes);
    void handle_tls_bytes(std::string_view bytes);
    void flush_tls();
    void send_raw(std::string data);
    void on_write_done(std::size_t size, int status);
    void maybe_release_tls_buffers();
    void finish_close();

    loop::Loop& loop_;
    ConnectionLimits limits_;
    loop::HandlePtr<StreamHandle> handle_;
    Kind kind_ = Kind::Tcp;
    ConnectionCallbacks callbacks_;
    LineReader reader_;
    Address peer_;
    std::unique_ptr<tls::TlsStream> tls_;
    std::string pending_plaintext_;  // written before the handshake finished
    std::unique_ptr<loop::Timer> linger_;
    std::string close_reason_;
    std::size_t queued_bytes_ = 0;
    std::uint64_t bytes_read_ = 0;
    std::uint64_t bytes_written_ = 0;
    bool reading_wanted_ = false;
    bool started_ = false;
    bool reading_ = false;
    bool backpressured_ = false;
    bool closing_ = false;
    bool handle_closing_ = false;
};

}  // namespace postern::net
