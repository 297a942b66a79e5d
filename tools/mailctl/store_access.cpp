#include "tools/mailctl/store_access.h"

namespace postern::mailctl {

Result<OpenedStore> open_store(const std::string& config_path) {
    auto cfg = config::load_file(config_path);
    if (!cfg) return fail(cfg.error().message);
    auto st = store::Store::open(cfg->paths.data_dir);
    if (!st)
        return fail("cannot open the data directory " + cfg->paths.data_dir.string() + ": " +
                    st.error().detail);
    return OpenedStore{std::move(*cfg), std::move(*st)};
}

}  // namespace postern::mailctl
