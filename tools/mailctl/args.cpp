#include "tools/mailctl/args.h"

namespace postern::mailctl {

Result<Args> Args::parse(const std::vector<std::string>& argv,
                         const std::set<std::string>& value_flags,
                         const std::set<std::string>& bool_flags) {
    Args args;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.rfind("--", 0) != 0 || a == "--") {
            args.positional_.push_back(a);
            continue;
        }
        if (bool_flags.count(a)) {
            args.flags_[a] = "";
        } else if (value_flags.count(a)) {
            if (i + 1 >= argv.size()) return fail(a + " needs a value");
            args.flags_[a] = argv[++i];
        } else if (a == "--password") {
            return fail(
                "passwords are not accepted on the command line; use the prompt or "
                "--password-stdin");
        } else {
            return fail("unknown option " + a);
        }
    }
    return args;
}

std::optional<std::string> Args::value(const std::string& flag) const {
    auto it = flags_.find(flag);
    if (it == flags_.end()) return std::nullopt;
    return it->second;
}

}  // namespace postern::mailctl
