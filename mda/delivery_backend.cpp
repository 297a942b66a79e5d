#include "mda/delivery_backend.h"

#include <map>
#include <memory>

namespace postern::mda {

store::StoreResult<store::Store*> StoreBackend::thread_store() {
    // Per thread, per data directory (tests run several in one process).
    thread_local std::map<std::filesystem::path, std::unique_ptr<store::Store>> stores;
    auto it = stores.find(data_dir_);
    if (it != stores.end()) return it->second.get();
    auto opened = store::Store::open(data_dir_);
    if (!opened) return fail(opened.error());
    auto& slot = stores[data_dir_];
    slot = std::make_unique<store::Store>(std::move(*opened));
    return slot.get();
}

Outcome StoreBackend::check_recipient(const std::string& address) {
    auto store = thread_store();
    if (!store) return outcome_for(store.error(), settings_.over_quota);
    Deliverer deliverer(**store, settings_);
    auto targets = deliverer.resolve(address);
    if (!targets) return targets.error();
    return Outcome{};
}

std::vector<RecipientResult> StoreBackend::deliver(const Envelope& envelope,
                                                   std::string_view message) {
    auto store = thread_store();
    if (!store) {
        std::vector<RecipientResult> out;
        for (const auto& r : envelope.recipients) {
            out.push_back(RecipientResult{r, outcome_for(store.error(), settings_.over_quota), {}});
        }
        return out;
    }
    Deliverer deliverer(**store, settings_);
    deliverer.set_index_pool(&indexes_);
    return deliverer.deliver(envelope, message);
}

}  // namespace postern::mda
