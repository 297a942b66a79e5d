#include "imapd/search_result.h"

#include "imapd/imap_response.h"

namespace postern::imap {

std::optional<SearchReturn> parse_search_return(const std::vector<Arg>& args, std::size_t& pos,
                                                bool rev2) {
    SearchReturn ret;
    ret.esearch = rev2;
    ret.all = rev2;
    if (pos + 1 >= args.size() || !args[pos].is("RETURN") || !args[pos + 1].is_list()) return ret;
    ret = SearchReturn{};
    ret.esearch = true;
    for (const Arg& o : args[pos + 1].list) {
        if (o.is("MIN")) {
            ret.min = true;
        } else if (o.is("MAX")) {
            ret.max = true;
        } else if (o.is("COUNT")) {
            ret.count = true;
        } else if (o.is("ALL")) {
            ret.all = true;
        } else if (o.is("SAVE")) {
            ret.save = true;
        } else {
            return std::nullopt;
        }
    }
    // RFC 4731 §3.1: () is (ALL); (SAVE) is not (RFC 5182 §2.1).
    if (!ret.min && !ret.max && !ret.count && !ret.save) ret.all = true;
    pos += 2;
    return ret;
}

std::string search_response(const SearchReturn& ret, const std::string& tag, bool uid,
                            const std::vector<std::uint32_t>& numbers) {
    if (!ret.esearch) {
        std::string line = "SEARCH";
        for (std::uint32_t n : numbers)
            line += " " + std::to_string(n);
        return line;
    }
    std::string line = "ESEARCH (TAG " + imap_string(tag) + ")";
    if (uid) line += " UID";
    if (ret.min && !numbers.empty()) line += " MIN " + std::to_string(numbers.front());
    if (ret.max && !numbers.empty()) line += " MAX " + std::to_string(numbers.back());
    if (ret.count) line += " COUNT " + std::to_string(numbers.size());
    if (ret.all && !numbers.empty()) line += " ALL " + sequence_set_text(numbers);
    return line;
}

std::vector<std::uint32_t> saved_subset(const SearchReturn& ret,
                                        const std::vector<std::uint32_t>& found) {
    if (ret.all || ret.count || (!ret.min && !ret.max) || found.empty()) return found;
    std::vector<std::uint32_t> out;
    if (ret.min) out.push_back(found.front());
    if (ret.max && (out.empty() || found.back() != out.back())) out.push_back(found.back());
    return out;
}

std::string sequence_set_text(const std::vector<std::uint32_t>& ascending) {
    std::string out;
    for (std::size_t i = 0; i < ascending.size();) {
        std::size_t j = i;
        while (j + 1 < ascending.size() && ascending[j + 1] == ascending[j] + 1)
            ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(ascending[i]);
        if (j > i) out += ':' + std::to_string(ascending[j]);
        i = j + 1;
    }
    return out;
}

}  // namespace postern::imap
