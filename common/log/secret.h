// Secret<T>: wraps a password or an AUTH payload so that it can never be
// written to a log by accident: every log formatter prints it as ********.
#pragma once

#include <string>
#include <utility>

#include <sodium.h>

namespace postern {

template <typename T = std::string>
class Secret {
  public:
    Secret() = default;
    explicit Secret(T value) : value_(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret& operator=(const Secret&) = default;
    Secret(Secret&&) noexcept = default;
    Secret& operator=(Secret&&) noexcept = default;
    ~Secret() {
        if constexpr (std::is_same_v<T, std::string>) sodium_memzero(value_.data(), value_.size());
    }

    // The only way to the value; the name makes every use easy to audit.
    const T& reveal() const { return value_; }

  private:
    T value_{};
};

inline constexpr const char* kRedacted = "********";

}  // namespace postern
