#include "common/smtp/smtp_parser.h"

#include <array>
#include <limits>

#include "common/base/ascii.h"

namespace postern::smtp {
namespace {

enum class Arg { None, Optional, Required };

struct VerbSpec {
    std::string_view name;
    Verb verb;
    Arg arg;
};

// RFC 5321 §4.1.1 and RFC 2033 §4.1. MAIL, RCPT and BDAT are checked by their
// own parsers below; the table only says whether they need an argument.
constexpr std::array kVerbs = {
    VerbSpec{"EHLO", Verb::Ehlo, Arg::Required},      // "EHLO" SP ( Domain / address-literal )
    VerbSpec{"HELO", Verb::Helo, Arg::Required},      // "HELO" SP Domain
    VerbSpec{"LHLO", Verb::Lhlo, Arg::Required},      // RFC 2033 §4.1
    VerbSpec{"MAIL", Verb::Mail, Arg::Required},      // "MAIL FROM:" Reverse-path ...
    VerbSpec{"RCPT", Verb::Rcpt, Arg::Required},      // "RCPT TO:" Forward-path ...
    VerbSpec{"DATA", Verb::Data, Arg::None},          // "DATA"
    VerbSpec{"BDAT", Verb::Bdat, Arg::Required},      // RFC 3030 §2
    VerbSpec{"RSET", Verb::Rset, Arg::None},          // "RSET"
    VerbSpec{"NOOP", Verb::Noop, Arg::Optional},      // "NOOP" [ SP String ]
    VerbSpec{"QUIT", Verb::Quit, Arg::None},          // "QUIT"
    VerbSpec{"VRFY", Verb::Vrfy, Arg::Required},      // "VRFY" SP String
    VerbSpec{"EXPN", Verb::Expn, Arg::Required},      // "EXPN" SP String
    VerbSpec{"HELP", Verb::Help, Arg::Optional},      // "HELP" [ SP String ]
    VerbSpec{"STARTTLS", Verb::Starttls, Arg::None},  // RFC 3207 §4
    VerbSpec{"AUTH", Verb::Auth, Arg::Required},      // RFC 4954 §4: mechanism [SP initial]
};

ParseError syntax(std::string text) {
    return parse_error(501, "5.5.4", std::move(text));
}

bool has_forbidden_byte(std::string_view line) {
    for (const char c : line) {
        if (c == '\0' || c == '\r' || c == '\n') return true;
    }
    return false;
}

// Strips `keyword` ("FROM:" / "TO:") and the one tolerated SP after it.
bool strip_keyword(std::string_view& arg, std::string_view keyword) {
    if (!istarts_with(arg, keyword)) return false;
    arg.remove_prefix(keyword.size());
    if (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    return true;
}

// Splits "path [SP params]" after the path; a lone trailing SP is an error.
Result<std::string_view, ParseError> params_after(std::string_view arg, std::size_t consumed,
                                                  std::string_view usage) {
    std::string_view rest = arg.substr(consumed);
    if (rest.empty()) return rest;
    if (rest.front() != ' ' || rest.size() == 1) return fail(syntax(std::string(usage)));
    return rest.substr(1);
}

// mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
ParseStatus parse_mail(std::string_view arg, Command& cmd) {
    constexpr std::string_view kUsage = "Syntax: MAIL FROM:<address>";
    if (!strip_keyword(arg, "FROM:")) return fail(syntax(std::string(kUsage)));
    // UTF-8 is checked after the parameters: SMTPUTF8 comes after the path.
    auto path = parse_path_prefix(arg, {.role = PathRole::Reverse, .allow_utf8 = true});
    if (!path) return fail(path.error());
    auto text = params_after(arg, path->consumed, kUsage);
    if (!text) return fail(text.error());
    auto params = parse_mail_params(*text);
    if (!params) return fail(params.error());
    if (path->path.utf8 && !params->smtputf8) {
        return fail(parse_error(553, "5.6.7", "Address requires SMTPUTF8"));
    }
    cmd.path = std::move(path->path);
    cmd.mail_params = std::move(*params);
    return {};
}

// rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
//        Forward-path ) [SP Rcpt-parameters] CRLF
ParseStatus parse_rcpt(std::string_view arg, Command& cmd, const ParseOptions& options) {
    constexpr std::string_view kUsage = "Syntax: RCPT TO:<address>";
    if (!strip_keyword(arg, "TO:")) return fail(syntax(std::string(kUsage)));
    auto path = parse_path_prefix(arg, {.role = PathRole::Forward, .allow_utf8 = options.smtputf8});
    if (!path) return fail(path.error());
    auto text = params_after(arg, path->consumed, kUsage);
    if (!text) return fail(text.error());
    auto params = parse_rcpt_params(*text);
    if (!params) return fail(params.error());
    cmd.path = std::move(path->path);
    cmd.rcpt_params = std::move(*params);
    return {};
}

const VerbSpec* find_verb(std::string_view name) {
    for (const VerbSpec& spec : kVerbs) {
        if (iequals(spec.name, name)) return &spec;
    }
    return nullptr;
}

ParseStatus check_argument(const VerbSpec& spec, bool has_separator, std::string_view arg) {
    if (has_separator && arg.empty()) return fail(syntax("Syntax error in parameters"));
    if (spec.arg == Arg::None && has_separator) return fail(syntax("No parameters allowed"));
    if (spec.arg == Arg::Required && arg.empty()) return fail(syntax("Parameter required"));
    return {};
}

}  // namespace

std::string_view verb_name(Verb verb) {
    for (const VerbSpec& spec : kVerbs) {
        if (spec.verb == verb) return spec.name;
    }
    return "?";
}

// command = verb [ SP argument ]; verbs are case-insensitive (RFC 5321 §2.4)
Result<Command, ParseError> parse_command(std::string_view line, const ParseOptions& options) {
    if (line.empty() || line.front() == ' ' || has_forbidden_byte(line)) {
        return fail(parse_error(500, "5.5.2", "Syntax error, command unrecognized"));
    }
    const std::size_t sp = line.find(' ');
    Command cmd;
    cmd.raw_verb = std::string(line.substr(0, sp));
    const bool has_separator = sp != std::string_view::npos;
    const std::string_view arg = has_separator ? line.substr(sp + 1) : std::string_view{};
    cmd.argument = std::string(arg);
    const VerbSpec* spec = find_verb(cmd.raw_verb);
    if (spec == nullptr) return cmd;  // Verb::Unknown
    cmd.verb = spec->verb;
    if (auto st = check_argument(*spec, has_separator, arg); !st) return fail(st.error());
    ParseStatus st;
    if (cmd.verb == Verb::Mail) st = parse_mail(arg, cmd);
    if (cmd.verb == Verb::Rcpt) st = parse_rcpt(arg, cmd, options);
    if (cmd.verb == Verb::Bdat) {
        auto bdat = parse_bdat_args(arg);
        if (!bdat) return fail(bdat.error());
        cmd.bdat = *bdat;
    }
    if (!st) return fail(st.error());
    return cmd;
}

// bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF
// chunk-size = 1*DIGIT;  end-marker = "LAST"     (RFC 3030 §2)
Result<BdatArgs, ParseError> parse_bdat_args(std::string_view argument) {
    constexpr std::string_view kUsage = "Syntax: BDAT <size> [LAST]";
    const std::size_t sp = argument.find(' ');
    const std::string_view digits = argument.substr(0, sp);
    BdatArgs out;
    if (sp != std::string_view::npos) {
        if (!iequals(argument.substr(sp + 1), "LAST")) return fail(syntax(std::string(kUsage)));
        out.last = true;
    }
    if (digits.empty()) return fail(syntax(std::string(kUsage)));
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    for (const char c : digits) {
        if (c < '0' || c > '9') return fail(syntax(std::string(kUsage)));
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (out.chunk_bytes > (kMax - d) / 10) return fail(syntax("BDAT size out of range"));
        out.chunk_bytes = out.chunk_bytes * 10 + d;
    }
    return out;
}

}  // namespace postern::smtp
