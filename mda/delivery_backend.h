// DeliveryBackend: the blocking half of the LMTP server, called from libuv
// pool threads. The session never touches the store itself.
//
// StoreBackend keeps one Store (directory.db handle) per pool thread, opened
// on first use, since a Store must be used by one thread at a time
// (store.h) and reopening SQLite for every command would cost more than the
// lookup itself.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "mda/delivery.h"
#include "storage/index_pool.h"

namespace postern::mda {

class DeliveryBackend {
  public:
    virtual ~DeliveryBackend() = default;
    // RCPT: Delivered means "accepted"; anything else is the refusal.
    // Thread-safe.
    virtual Outcome check_recipient(const std::string& address) = 0;
    // Thread-safe. One result per envelope recipient, in order.
    virtual std::vector<RecipientResult> deliver(const Envelope& envelope,
                                                 std::string_view message) = 0;
};

class StoreBackend final : public DeliveryBackend {
  public:
    StoreBackend(std::filesystem::path data_dir, DeliverySettings settings)
        : data_dir_(std::move(data_dir)), settings_(std::move(settings)) {}

    Outcome check_recipient(const std::string& address) override;
    std::vector<RecipientResult> deliver(const Envelope& envelope,
                                         std::string_view message) override;

  private:
    // This thread's Store for data_dir_, or the failure to open it.
    store::StoreResult<store::Store*> thread_store();

    std::filesystem::path data_dir_;
    DeliverySettings settings_;
    store::IndexPool indexes_;
};

}  // namespace postern::mda
