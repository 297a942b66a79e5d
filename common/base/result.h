// Result<T, E>: the return type of every fallible operation on the data path.
//
// GCC 12 in C++20 mode has no std::expected; this is the small subset we use.
// A Result holds either a value or an error, never both. Reading the wrong
// side is a broken invariant and aborts (POSTERN_ASSERT), never UB.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "common/base/assert.h"

namespace postern {

// The default error: a message meant for the log, never for a client.
struct Error {
    std::string message;
};

template <typename E>
struct Unexpected {
    E error;
};

template <typename E>
Unexpected<std::decay_t<E>> fail(E&& error) {
    return {std::forward<E>(error)};
}

inline Unexpected<Error> fail(std::string message) {
    return {Error{std::move(message)}};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    template <typename F>
    Result(Unexpected<F> u) : state_(std::in_place_index<1>, E(std::move(u.error))) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        POSTERN_ASSERT(ok());
        return std::get<0>(state_);
    }
    const T& value() const& {
        POSTERN_ASSERT(ok());
        return std::get<0>(state_);
    }
    T&& value() && {
        POSTERN_ASSERT(ok());
        return std::get<0>(std::move(state_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const {
        POSTERN_ASSERT(!ok());
        return std::get<1>(state_);
    }

  private:
    std::variant<T, E> state_;
};

// Result<void>: success carries no value.
template <typename E>
class [[nodiscard]] Result<void, E> {
  public:
    Result() = default;
    template <typename F>
    Result(Unexpected<F> u) : error_(E(std::move(u.error))), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const E& error() const {
        POSTERN_ASSERT(!ok_);
        return error_;
    }

  private:
    E error_{};
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace postern
