// Command-line arguments of one mailctl subcommand: positionals and --flags.
// Passwords never come from here: only from a no-echo prompt or stdin.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/result.h"

namespace postern::mailctl {

class Args {
  public:
    // `value_flags` take a value ("--domain D"); `bool_flags` do not ("--json").
    static Result<Args> parse(const std::vector<std::string>& argv,
                              const std::set<std::string>& value_flags,
                              const std::set<std::string>& bool_flags);

    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& flag) const { return flags_.count(flag) != 0; }
    std::optional<std::string> value(const std::string& flag) const;

  private:
    std::vector<std::string> positional_;
    std::map<std::string, std::string> flags_;
};

}  // namespace postern::mailctl
