// The outcome vocabulary of one recipient's delivery, and its two mappings.
//
// Every path that can refuse or fail a recipient (resolution, loop check,
// quota, size, the store) ends in a DeliveryStatus. Each protocol maps it
// exactly once (STYLE.md §11): reply_for() gives the LMTP reply,
// exit_code_for() the sysexits.h code for pipe mode. Neither ever shows the
// internal detail (paths, SQLite text) to the client; that goes to the log.
#pragma once

#include <string>

#include "common/config/config.h"
#include "common/smtp/smtp_reply.h"
#include "storage/store_error.h"

namespace postern::mda {

enum class DeliveryStatus {
    Delivered,
    UnknownUser,    // 550 5.1.1 / EX_NOUSER
    BadAddress,     // 501 5.1.3 / EX_NOUSER: not an address we can parse
    MailLoop,       // 554 5.4.6 / EX_DATAERR: our Delivered-To, too many Received, alias loop
    OverQuotaTemp,  // 452 4.2.2 / EX_TEMPFAIL (delivery.over_quota = "temporary")
    OverQuotaPerm,  // 552 5.2.2 / EX_CANTCREAT (delivery.over_quota = "permanent")
    TooBig,         // 552 5.3.4 / EX_CANTCREAT
    TempFail,       // 451 4.3.0 / EX_TEMPFAIL: disk full, I/O, database busy
    PermFail,       // 550 5.3.0 / EX_UNAVAILABLE: e.g. permission denied on the store
};

// A status plus the detail for the log (never sent to a client).
struct Outcome {
    DeliveryStatus status = DeliveryStatus::Delivered;
    std::string detail;
};

// StoreError → status. Quota follows the configured policy; NotFound is an
// unknown user; Invalid a bad address; everything else temporary or permanent.
DeliveryStatus status_for(store::StoreError error, config::OverQuota policy);
Outcome outcome_for(const store::Failure& failure, config::OverQuota policy);

// The one LMTP mapping (RFC 2033 §4.2 per-recipient replies).
smtp::Reply reply_for(DeliveryStatus status);
// The one sysexits mapping (pipe mode; Postfix reads it, see its sys_exits.c).
int exit_code_for(DeliveryStatus status);

bool is_temporary(DeliveryStatus status);

// Stable lowercase names for log lines.
const char* status_name(DeliveryStatus status);

}  // namespace postern::mda
