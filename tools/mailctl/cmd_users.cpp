// Domains, users, aliases and quotas: thin front ends to storage's
// Directory. Each change is one transaction in the store, so a refused
// command (unknown domain, duplicate user, bad address, weak password)
// writes nothing; the reason goes to stderr with a non-zero exit.
#include <iostream>

#include "common/base/sysexits.h"
#include "storage/store_error.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/output.h"
#include "tools/mailctl/password_input.h"
#include "tools/mailctl/store_access.h"

namespace postern::mailctl {
namespace {

// Admin errors map to sysexits so scripts can tell them apart.
int exit_code_of(store::StoreError code) {
    switch (code) {
        case store::StoreError::NotFound:
            return kExNoUser;
        case store::StoreError::Exists:
        case store::StoreError::Invalid:
        case store::StoreError::InUse:
            return kExDataErr;
        case store::StoreError::Perm:
            return kExNoPerm;
        case store::StoreError::NoQuota:
        case store::StoreError::TooBig:
            return kExCantCreate;
        case store::StoreError::Temp:
            return kExTempFail;
    }
    return kExSoftware;
}

int store_failed(const store::Failure& f) {
    return complain(exit_code_of(f.code), f.detail);
}

struct Parsed {
    Args args;
    OpenedStore opened;
};

// Parses the words after the verb and opens the store; on failure returns the
// exit code in `code`.
std::optional<Parsed> prepare(const Context& ctx, const Words& words, std::size_t positionals,
                              const std::set<std::string>& value_flags,
                              const std::set<std::string>& bool_flags, const char* usage,
                              int& code) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), value_flags, bool_flags);
    if (!args) {
        code = complain(kExUsage, args.error().message);
        return std::nullopt;
    }
    if (args->positional().size() != positionals) {
        code = complain(kExUsage, std::string("usage: mailctl ") + usage);
        return std::nullopt;
    }
    auto opened = open_store(ctx.config_path);
    if (!opened) {
        code = complain(kExConfig, opened.error().message);
        return std::nullopt;
    }
    return Parsed{std::move(*args), std::move(*opened)};
}

nlohmann::json user_json(const store::User& u) {
    return {{"address", u.address()},
            {"quota_bytes", u.quota.bytes},
            {"quota_messages", u.quota.messages}};
}

int domain_add_del(const Context& ctx, const Words& words, bool add) {
    int code = 0;
    auto p = prepare(ctx, words, 1, {}, {}, "domain add|del DOMAIN", code);
    if (!p) return code;
    auto& dir = p->opened.store.directory();
    const auto& name = p->args.positional()[0];
    auto st = add ? dir.add_domain(name) : dir.delete_domain(name);
    if (!st) return store_failed(st.error());
    std::cout << (add ? "added domain " : "deleted domain ") << name << "\n";
    return kExOk;
}

int domain_list(const Context& ctx, const Words& words) {
    int code = 0;
    auto p = prepare(ctx, words, 0, {}, {"--json"}, "domain list [--json]", code);
    if (!p) return code;
    auto domains = p->opened.store.directory().list_domains();
    if (!domains) return store_failed(domains.error());
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& d : *domains)
        rows.push_back({{"domain", d}});
    print_table(rows, {"domain"}, p->args.has("--json"));
    return kExOk;
}

int user_add_passwd(const Context& ctx, const Words& words, bool add) {
    int code = 0;
    auto p = prepare(ctx, words, 1, {}, {"--password-stdin"},
                     "user add|passwd ADDRESS [--password-stdin]", code);
    if (!p) return code;
    const auto& address = p->args.positional()[0];
    auto& store = p->opened.store;
    // Check what can be checked before asking for a password.
    if (!add) {
        if (auto u = store.directory().find_user(address); !u) return store_failed(u.error());
    }
    auto password = read_new_password(p->args.has("--password-stdin"));
    if (!password) return complain(kExDataErr, password.error().message);
    if (auto strong = check_password_strength(*password, address); !strong)
        return complain(kExDataErr, strong.error().message);
    if (add) {
        auto user = store.add_user(address, *password);
        if (!user) return store_failed(user.error());
        std::cout << "added user " << user->address() << "\n";
    } else {
        auto st = store.directory().set_password(address, *password);
        if (!st) return store_failed(st.error());
        std::cout << "changed the password of " << address << "\n";
    }
    return kExOk;
}

int user_del(const Context& ctx, const Words& words) {
    int code = 0;
    auto p = prepare(ctx, words, 1, {}, {}, "user del ADDRESS", code);
    if (!p) return code;
    auto st = p->opened.store.directory().delete_user(p->args.positional()[0]);
    if (!st) return store_failed(st.error());
    std::cout << "deleted user " << p->args.positional()[0] << " (the mail on disk is kept)\n";
    return kExOk;
}

int user_list(const Context& ctx, const Words& words) {
    int code = 0;
    auto p =
        prepare(ctx, words, 0, {"--domain"}, {"--json"}, "user list [--domain D] [--json]", code);
    if (!p) return code;
    auto users = p->opened.store.directory().list_users(p->args.value("--domain").value_or(""));
    if (!users) return store_failed(users.error());
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& u : *users)
        rows.push_back(user_json(u));
    print_table(rows, {"address", "quota_bytes", "quota_messages"}, p->args.has("--json"));
    return kExOk;
}

int user_show(const Context& ctx, const Words& words) {
    int code = 0;
    auto p = prepare(ctx, words, 1, {}, {"--json"}, "user show ADDRESS [--json]", code);
    if (!p) return code;
    auto& store = p->opened.store;
    auto user = store.directory().find_user(p->args.positional()[0]);
    if (!user) return store_failed(user.error());
    auto record = user_json(*user);
    auto index = store.open_index(*user);
    if (!index) return store_failed(index.error());
    auto usage = index->usage();
    if (!usage) return store_failed(usage.error());
    record["used_bytes"] = usage->bytes;
    record["used_messages"] = usage->messages;
    auto boxes = index->list_mailboxes();
    if (!boxes) return store_failed(boxes.error());
    record["mailboxes"] = nlohmann::json::array();
    for (const auto& b : *boxes)
        record["mailboxes"].push_back(b.name);
    print_record(record, p->args.has("--json"));
    return kExOk;
}

// "verb" dispatch shared by the noun commands.
struct Verb {
    std::string_view name;
    int (*run)(const Context&, const Words&);
};

int dispatch(const Context& ctx, const Words& words, std::initializer_list<Verb> verbs,
             const char* usage) {
    if (!words.empty()) {
        for (const auto& v : verbs)
            if (v.name == words[0]) return v.run(ctx, words);
    }
    return complain(kExUsage, std::string("usage: mailctl ") + usage);
}

}  // namespace

int cmd_domain(const Context& ctx, const Words& words) {
    return dispatch(
        ctx, words,
        {{"add", [](const Context& c, const Words& w) { return domain_add_del(c, w, true); }},
         {"del", [](const Context& c, const Words& w) { return domain_add_del(c, w, false); }},
         {"list", domain_list}},
        "domain add|del DOMAIN | domain list [--json]");
}

int cmd_user(const Context& ctx, const Words& words) {
    return dispatch(
        ctx, words,
        {{"add", [](const Context& c, const Words& w) { return user_add_passwd(c, w, true); }},
         {"passwd", [](const Context& c, const Words& w) { return user_add_passwd(c, w, false); }},
         {"del", user_del},
         {"list", user_list},
         {"show", user_show}},
        "user add|passwd|del|show ADDRESS | user list [--json]");
}

int cmd_alias(const Context& ctx, const Words& words) {
    return dispatch(
        ctx, words,
        {{"add",
          [](const Context& c, const Words& w) {
              auto args = Args::parse(Words(w.begin() + 1, w.end()), {}, {});
              if (!args) return complain(kExUsage, args.error().message);
              if (args->positional().size() < 2)
                  return complain(kExUsage, "usage: mailctl alias add ALIAS TARGET...");
              auto opened = open_store(c.config_path);
              if (!opened) return complain(kExConfig, opened.error().message);
              const auto& pos = args->positional();
              auto st =
                  opened->store.directory().add_alias(pos[0], Words(pos.begin() + 1, pos.end()));
              if (!st) return store_failed(st.error());
              std::cout << "added alias " << pos[0] << "\n";
              return kExOk;
          }},
         {"del",
          [](const Context& c, const Words& w) {
              int code = 0;
              auto p = prepare(c, w, 1, {"--target"}, {}, "alias del ALIAS [--target T]", code);
              if (!p) return code;
              auto st = p->opened.store.directory().delete_alias(
                  p->args.positional()[0], p->args.value("--target").value_or(""));
              if (!st) return store_failed(st.error());
              std::cout << "deleted alias " << p->args.positional()[0] << "\n";
              return kExOk;
          }},
         {"list",
          [](const Context& c, const Words& w) {
              int code = 0;
              auto p = prepare(c, w, 0, {"--domain"}, {"--json"},
                               "alias list [--domain D] [--json]", code);
              if (!p) return code;
              auto aliases =
                  p->opened.store.directory().list_aliases(p->args.value("--domain").value_or(""));
              if (!aliases) return store_failed(aliases.error());
              nlohmann::json rows = nlohmann::json::array();
              for (const auto& a : *aliases)
                  rows.push_back({{"alias", a.source}, {"target", a.target}});
              print_table(rows, {"alias", "target"}, p->args.has("--json"));
              return kExOk;
          }}},
        "alias add ALIAS TARGET... | alias del ALIAS [--target T] | alias list [--json]");
}

int cmd_quota(const Context& ctx, const Words& words) {
    return dispatch(
        ctx, words,
        {{"set",
          [](const Context& c, const Words& w) {
              int code = 0;
              auto p = prepare(c, w, 1, {"--bytes", "--messages"}, {},
                               "quota set ADDRESS [--bytes N] [--messages N]", code);
              if (!p) return code;
              store::Quota quota;
              for (auto [flag, field] :
                   {std::pair{"--bytes", &quota.bytes}, std::pair{"--messages", &quota.messages}}) {
                  const auto text = p->args.value(flag).value_or("0");
                  char* end = nullptr;
                  *field = std::strtoull(text.c_str(), &end, 10);
                  if (text.empty() || *end != '\0' || text[0] == '-')
                      return complain(kExUsage,
                                      std::string(flag) + " must be a number (0 = unlimited)");
              }
              auto st = p->opened.store.directory().set_quota(p->args.positional()[0], quota);
              if (!st) return store_failed(st.error());
              std::cout << "set the quota of " << p->args.positional()[0] << "\n";
              return kExOk;
          }}},
        "quota set ADDRESS [--bytes N] [--messages N]");
}

}  // namespace postern::mailctl
