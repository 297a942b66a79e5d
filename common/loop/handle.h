// Handle<T>: the one owner of a libuv handle (uv_timer_t, uv_tcp_t, ...).
//
// Contract (STYLE.md §12):
// - libuv keeps the handle's address, so a Handle is neither copyable nor
//   movable; it lives on the heap and is reached through a HandlePtr<T>.
// - close() is idempotent; the memory is freed ONLY in libuv's close
//   callback, never earlier, so libuv can never touch freed memory.
// - Handles are created only through Loop::make<T>() (pass-key constructor).
// - owner(): the object callbacks should reach (a Timer, a Connection). When
//   the HandlePtr is dropped the owner and any close callback are cleared
//   first, so a late callback (a cancelled write, a close) does nothing.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <uv.h>

namespace postern::loop {

class Loop;

// The pass-key: only Loop can construct one, so only Loop creates handles.
class HandleKey {
    friend class Loop;
    HandleKey() = default;
};

template <typename T>
class Handle {
  public:
    explicit Handle(HandleKey) { raw()->data = this; }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&&) = delete;
    Handle& operator=(Handle&&) = delete;

    T* get() { return &uv_; }
    uv_handle_t* raw() { return reinterpret_cast<uv_handle_t*>(&uv_); }
    uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&uv_); }

    // Whether libuv's init succeeded; an uninitialised handle is freed
    // directly because libuv never saw it.
    void mark_initialised() {
        initialised_ = true;
        raw()->data = this;
    }

    void* owner() const { return owner_; }
    void set_owner(void* owner) { owner_ = owner; }
    bool closing() const { return closing_; }

    // Idempotent. on_closed runs from the close callback, just before the
    // memory is freed.
    void close(std::function<void()> on_closed = {}) {
        if (closing_) return;
        closing_ = true;
        on_closed_ = std::move(on_closed);
        if (!initialised_) {
            finish();
            return;
        }
        uv_close(raw(), &Handle::on_close);
    }

    // The owner is going away: a close already in progress must not call it.
    void forget_close_callback() { on_closed_ = nullptr; }

    // Recovers the Handle from a libuv callback argument.
    static Handle* from(uv_handle_t* h) { return static_cast<Handle*>(h->data); }
    static Handle* from(T* h) { return from(reinterpret_cast<uv_handle_t*>(h)); }

  private:
    static void on_close(uv_handle_t* h) { from(h)->finish(); }
    void finish() {
        auto done = std::move(on_closed_);
        delete this;
        if (done) done();
    }
    ~Handle() = default;

    T uv_{};
    void* owner_ = nullptr;
    bool initialised_ = false;
    bool closing_ = false;
    std::function<void()> on_closed_;
};

// Dropping a HandlePtr clears the owner and starts the close; it never
// deletes directly.
template <typename T>
struct HandleCloser {
    void operator()(Handle<T>* h) const {
        h->set_owner(nullptr);
        h->forget_close_callback();
        h->close();
    }
};
template <typename T>
using HandlePtr = std::unique_ptr<Handle<T>, HandleCloser<T>>;

}  // namespace postern::loop
