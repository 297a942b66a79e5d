#include "common/dns/dns_answer.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <random>

#include "common/base/ascii.h"

namespace postern::dns {
namespace {

// ns_initparse and ns_parserr over one packet; the records of the answer
// section with their owner names normalized.
struct AnswerRecord {
    std::string owner;
    int type = 0;
    const unsigned char* rdata = nullptr;
    std::size_t rdlength = 0;
};

struct ParsedAnswer {
    ns_msg msg{};
    std::vector<AnswerRecord> records;
};

Result<ParsedAnswer> read_answer_section(const unsigned char* packet, std::size_t size) {
    ParsedAnswer out;
    if (ns_initparse(packet, static_cast<int>(size), &out.msg) < 0) {
        return fail("dns: malformed answer packet");
    }
    const int count = ns_msg_count(out.msg, ns_s_an);
    for (int i = 0; i < count; ++i) {
        ns_rr rr{};
        if (ns_parserr(&out.msg, ns_s_an, i, &rr) < 0) {
            return fail("dns: malformed answer record " + std::to_string(i));
        }
        out.records.push_back(AnswerRecord{normalize_name(ns_rr_name(rr)), ns_rr_type(rr),
                                           ns_rr_rdata(rr), ns_rr_rdlen(rr)});
    }
    return out;
}

Result<std::string> expand_name(const ns_msg& msg, const unsigned char* at) {
    char name[NS_MAXDNAME];
    if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), at, name, sizeof name) < 0) {
        return fail("dns: malformed name in record data");
    }
    return normalize_name(name);
}

// The end of the CNAME chain starting at `name`.
Result<std::string> follow_cnames(const ParsedAnswer& answer, std::string name) {
    for (int hops = 0; hops <= kMaxCnameChain; ++hops) {
        auto it = std::find_if(answer.records.begin(), answer.records.end(), [&](const auto& r) {
            return r.type == ns_t_cname && r.owner == name;
        });
        if (it == answer.records.end()) return name;
        auto target = expand_name(answer.msg, it->rdata);
        if (!target) return fail(target.error());
        name = std::move(*target);
    }
    return fail("dns: CNAME chain longer than " + std::to_string(kMaxCnameChain));
}

}  // namespace

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return ascii_lowercase(name);
}

Result<std::vector<MxRecord>> parse_mx_answer(const unsigned char* packet, std::size_t size,
                                              std::string_view name) {
    auto answer = read_answer_section(packet, size);
    if (!answer) return fail(answer.error());
    auto owner = follow_cnames(*answer, normalize_name(name));
    if (!owner) return fail(owner.error());
    std::vector<MxRecord> out;
    for (const auto& r : answer->records) {
        if (r.type != ns_t_mx || r.owner != *owner) continue;
        if (r.rdlength < 3) return fail("dns: MX record too short");
        auto host = expand_name(answer->msg, r.rdata + 2);
        if (!host) return fail(host.error());
        out.push_back(MxRecord{static_cast<std::uint16_t>(ns_get16(r.rdata)), std::move(*host)});
    }
    return out;
}

Result<std::vector<std::string>> parse_address_answer(const unsigned char* packet, std::size_t size,
                                                      std::string_view name, int type) {
    auto answer = read_answer_section(packet, size);
    if (!answer) return fail(answer.error());
    auto owner = follow_cnames(*answer, normalize_name(name));
    if (!owner) return fail(owner.error());
    const int family = type == ns_t_aaaa ? AF_INET6 : AF_INET;
    const std::size_t length = type == ns_t_aaaa ? 16 : 4;
    std::vector<std::string> out;
    for (const auto& r : answer->records) {
        if (r.type != type || r.owner != *owner) continue;
        if (r.rdlength != length) return fail("dns: address record of wrong length");
        char text[INET6_ADDRSTRLEN];
        if (inet_ntop(family, r.rdata, text, sizeof text) == nullptr) {
            return fail("dns: unprintable address");
        }
        out.emplace_back(text);
    }
    return out;
}

std::vector<MxRecord> order_mx(std::vector<MxRecord> records) {
    if (records.size() == 1 && records[0].host.empty() && records[0].preference == 0) {
        return records;  // RFC 7505 null MX
    }
    std::erase_if(records, [](const MxRecord& r) { return r.host.empty(); });
    thread_local std::mt19937 random{std::random_device{}()};
    std::shuffle(records.begin(), records.end(), random);
    std::stable_sort(records.begin(), records.end(),
                     [](const auto& a, const auto& b) { return a.preference < b.preference; });
    if (records.size() > kMaxMxHosts) records.resize(kMaxMxHosts);
    return records;
}

}  // namespace postern::dns
