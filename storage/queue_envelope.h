// One queued message's envelope: who sent it, to whom, and per recipient
// what has happened so far. Stored as JSON in the spool (queue_spool.h);
// the same JSON, with "id", is what `mailctl queue show --json` prints.
//
// Field meanings follow RFC 3461 (DSN extension: NOTIFY, ORCPT, ENVID,
// RET) and RFC 3464 (what a delivery status notification reports).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base/result.h"

namespace postern::store {

enum class RecipientState {
    Pending,    // not yet delivered; retried at next_attempt
    Delivered,  // a server accepted it (2xx); nothing more to do
    Failed,     // permanent failure or expiry; a bounce was or will be sent
};

// RFC 3461 §4.1 NOTIFY, as bits. Neither Never nor any other bit set means
// the default: Failure (and Delay at our discretion).
enum NotifyBits : unsigned {
    kNotifySuccess = 1,
    kNotifyFailure = 2,
    kNotifyDelay = 4,
    kNotifyNever = 8,
};

struct QueuedRecipient {
    std::string address;  // "local@domain", as routed
    std::string orcpt;    // RFC 3461 ORCPT as given ("rfc822;a@b"), or ""
    unsigned notify = 0;  // NotifyBits
    RecipientState state = RecipientState::Pending;
    std::string last_reply;   // "550 5.1.1 No such user" or our own diagnostic
    std::string remote_host;  // the server that gave last_reply, or ""
    bool bounced = false;     // Failed and the DSN (if any) is enqueued
    // Retries are per recipient: one slow or failing destination must not
    // hold back a message's other recipients.
    std::int64_t next_attempt = 0;  // Unix seconds; 0 means now
    std::uint32_t attempts = 0;
};

struct Envelope {
    std::string id;
    std::string sender;     // "" is the null reverse-path (bounces)
    std::string envid;      // RFC 3461 ENVID, or ""
    bool ret_full = false;  // RET=FULL; else headers only in a bounce
    bool smtputf8 = false;
    bool eight_bit = false;    // BODY=8BITMIME
    std::string submitted_by;  // the authenticated user, for logs; "" for our bounces
    std::int64_t arrival = 0;  // Unix seconds
    // The earliest next_attempt of the Pending recipients (for listing and
    // scheduling); `mailctl queue retry` sets it and theirs to 0.
    std::int64_t next_attempt = 0;
    std::uint32_t attempts = 0;  // delivery attempts made for any recipient
    std::uint64_t size = 0;      // bytes in msg/<id>
    std::vector<QueuedRecipient> recipients;

    bool finished() const;  // no recipient is Pending and every Failed one is bounced
};

std::string_view to_string(RecipientState state);
nlohmann::json to_json(const Envelope& envelope);
// The JSON has one field per struct member, under the member's name;
// state is "pending", "delivered" or "failed", notify an array of
// "success", "failure", "delay", "never". Required: id, sender, arrival,
// size, recipients, and each recipient's address and state; other fields
// default when absent and unknown fields are ignored, so a spool survives
// an upgrade or a downgrade.
// Fails naming the field ("recipients[1].state: ...") when the JSON is not
// an envelope: a wrong type, a missing required field, a bad value.
Result<Envelope> envelope_from_json(const nlohmann::json& json);

}  // namespace postern::store
