// Envelope <-> JSON. The spool file is read back by the queue runner and by
// mailctl, possibly written by an older or newer Postern: unknown fields are
// ignored, optional fields default, and every other problem fails naming the
// field ("recipients[1].state: ...") so a corrupt file is easy to find.
#include "storage/queue_envelope.h"

#include <array>
#include <limits>

namespace postern::store {
namespace {

using nlohmann::json;

// RFC 3461 §4.1 NOTIFY keywords, in bit order, as they appear in the JSON.
constexpr std::array<std::pair<NotifyBits, std::string_view>, 4> kNotifyNames = {{
    {kNotifySuccess, "success"},
    {kNotifyFailure, "failure"},
    {kNotifyDelay, "delay"},
    {kNotifyNever, "never"},
}};

constexpr std::array kStates = {RecipientState::Pending, RecipientState::Delivered,
                                RecipientState::Failed};

json notify_to_json(unsigned notify) {
    json out = json::array();
    for (const auto& [bit, name] : kNotifyNames)
        if (notify & bit) out.push_back(name);
    return out;
}

json recipient_to_json(const QueuedRecipient& r) {
    return {{"address", r.address},
            {"orcpt", r.orcpt},
            {"notify", notify_to_json(r.notify)},
            {"state", to_string(r.state)},
            {"last_reply", r.last_reply},
            {"remote_host", r.remote_host},
            {"bounced", r.bounced},
            {"next_attempt", r.next_attempt},
            {"attempts", r.attempts}};
}

// Reads the fields of one JSON object; `where` prefixes every error
// ("recipients[0]."). A missing optional field leaves the target unchanged.
class FieldReader {
  public:
    FieldReader(const json& object, std::string where)
        : object_(object), where_(std::move(where)) {}

    Status string(std::string_view key, std::string& out, bool required) {
        const json* v = find(key);
        if (v == nullptr) return missing(key, required);
        if (!v->is_string()) return wrong(key, "a string", *v);
        out = v->get<std::string>();
        return {};
    }

    Status boolean(std::string_view key, bool& out) {
        const json* v = find(key);
        if (v == nullptr) return {};
        if (!v->is_boolean()) return wrong(key, "true or false", *v);
        out = v->get<bool>();
        return {};
    }

    template <typename Int>
    Status integer(std::string_view key, Int& out, bool required) {
        const json* v = find(key);
        if (v == nullptr) return missing(key, required);
        constexpr auto kMax = std::numeric_limits<Int>::max();
        if (v->is_number_unsigned()) {
            const auto u = v->get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(kMax)) return wrong(key, "a smaller number", *v);
            out = static_cast<Int>(u);
            return {};
        }
        if (v->is_number_integer()) {
            const auto i = v->get<std::int64_t>();
            if (i < 0 && !std::numeric_limits<Int>::is_signed)
                return wrong(key, "a number >= 0", *v);
            out = static_cast<Int>(i);
            return {};
        }
        return wrong(key, "an integer", *v);
    }

    Status notify(std::string_view key, unsigned& out) {
        const json* v = find(key);
        if (v == nullptr) return {};
        if (!v->is_array()) return wrong(key, "an array of NOTIFY keywords", *v);
        out = 0;
        for (const auto& item : *v) {
            unsigned bit = 0;
            for (const auto& [b, name] : kNotifyNames)
                if (item.is_string() && item.get<std::string>() == name) bit = b;
            if (bit == 0) return wrong(key, "success, failure, delay or never", item);
            out |= bit;
        }
        // RFC 3461 §4.1: NEVER must not be combined with another keyword.
        if ((out & kNotifyNever) && out != kNotifyNever)
            return fail(where_ + std::string(key) + ": never combined with another keyword");
        return {};
    }

    Status state(std::string_view key, RecipientState& out) {
        const json* v = find(key);
        if (v == nullptr) return missing(key, true);
        for (auto s : kStates) {
            if (v->is_string() && v->get<std::string>() == to_string(s)) {
                out = s;
                return {};
            }
        }
        return wrong(key, "pending, delivered or failed", *v);
    }

    const json* find(std::string_view key) const {
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }

    Status wrong(std::string_view key, std::string_view want, const json& got) const {
        return fail(where_ + std::string(key) + ": want " + std::string(want) + ", got " +
                    got.dump());
    }

  private:
    Status missing(std::string_view key, bool required) const {
        if (!required) return {};
        return fail(where_ + std::string(key) + ": missing");
    }

    const json& object_;
    std::string where_;
};

Result<QueuedRecipient> recipient_from_json(const json& j, std::size_t index) {
    const std::string where = "recipients[" + std::to_string(index) + "].";
    if (!j.is_object()) return fail(where.substr(0, where.size() - 1) + ": want an object");
    QueuedRecipient r;
    FieldReader f(j, where);
    for (auto st : {f.string("address", r.address, true), f.string("orcpt", r.orcpt, false),
                    f.notify("notify", r.notify), f.state("state", r.state),
                    f.string("last_reply", r.last_reply, false),
                    f.string("remote_host", r.remote_host, false), f.boolean("bounced", r.bounced),
                    f.integer("next_attempt", r.next_attempt, false),
                    f.integer("attempts", r.attempts, false)}) {
        if (!st) return fail(st.error());
    }
    return r;
}

}  // namespace

bool Envelope::finished() const {
    for (const auto& r : recipients) {
        if (r.state == RecipientState::Pending) return false;
        if (r.state == RecipientState::Failed && !r.bounced) return false;
    }
    return true;
}

std::string_view to_string(RecipientState state) {
    switch (state) {
        case RecipientState::Pending:
            return "pending";
        case RecipientState::Delivered:
            return "delivered";
        case RecipientState::Failed:
            return "failed";
    }
    POSTERN_PANIC("bad RecipientState");
}

json to_json(const Envelope& e) {
    json recipients = json::array();
    for (const auto& r : e.recipients)
        recipients.push_back(recipient_to_json(r));
    return {{"id", e.id},
            {"sender", e.sender},
            {"envid", e.envid},
            {"ret_full", e.ret_full},
            {"smtputf8", e.smtputf8},
            {"eight_bit", e.eight_bit},
            {"submitted_by", e.submitted_by},
            {"arrival", e.arrival},
            {"next_attempt", e.next_attempt},
            {"attempts", e.attempts},
            {"size", e.size},
            {"recipients", std::move(recipients)}};
}

Result<Envelope> envelope_from_json(const json& j) {
    if (!j.is_object()) return fail("envelope: want a JSON object, got " + j.dump());
    Envelope e;
    FieldReader f(j, "");
    for (auto st :
         {f.string("id", e.id, true), f.string("sender", e.sender, true),
          f.string("envid", e.envid, false), f.boolean("ret_full", e.ret_full),
          f.boolean("smtputf8", e.smtputf8), f.boolean("eight_bit", e.eight_bit),
          f.string("submitted_by", e.submitted_by, false), f.integer("arrival", e.arrival, true),
          f.integer("next_attempt", e.next_attempt, false),
          f.integer("attempts", e.attempts, false), f.integer("size", e.size, true)}) {
        if (!st) return fail(st.error());
    }
    const json* recipients = f.find("recipients");
    if (recipients == nullptr) return fail("recipients: missing");
    if (!recipients->is_array())
        return fail(f.wrong("recipients", "an array", *recipients).error());
    for (std::size_t i = 0; i < recipients->size(); ++i) {
        auto r = recipient_from_json((*recipients)[i], i);
        if (!r) return fail(r.error());
        e.recipients.push_back(std::move(*r));
    }
    return e;
}

}  // namespace postern::store
