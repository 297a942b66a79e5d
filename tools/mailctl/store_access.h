// Opening the store named by the config, for the admin commands.
#pragma once

#include "common/base/result.h"
#include "common/config/config.h"
#include "storage/store.h"

namespace postern::mailctl {

struct OpenedStore {
    config::Config config;
    store::Store store;
};

// Loads the config and opens its data directory; the error says which.
Result<OpenedStore> open_store(const std::string& config_path);

}  // namespace postern::mailctl
