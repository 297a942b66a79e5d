// StoreError → DeliveryStatus → (LMTP reply | sysexits): the only place where
// mda decides what a failure means to the sender (STYLE.md §11).
#include "common/base/sysexits.h"
#include "mda/mda_status.h"

namespace postern::mda {

DeliveryStatus status_for(store::StoreError error, config::OverQuota policy) {
    switch (error) {
        case store::StoreError::NotFound:
            return DeliveryStatus::UnknownUser;
        case store::StoreError::Invalid:
            return DeliveryStatus::BadAddress;
        case store::StoreError::NoQuota:
            return policy == config::OverQuota::Permanent ? DeliveryStatus::OverQuotaPerm
                                                          : DeliveryStatus::OverQuotaTemp;
        case store::StoreError::TooBig:
            return DeliveryStatus::TooBig;
        case store::StoreError::Perm:
            return DeliveryStatus::PermFail;
        case store::StoreError::Temp:
        case store::StoreError::Exists:
        case store::StoreError::InUse:
            return DeliveryStatus::TempFail;
    }
    return DeliveryStatus::TempFail;
}

Outcome outcome_for(const store::Failure& failure, config::OverQuota policy) {
    return Outcome{status_for(failure.code, policy),
                   std::string(store::store_error_name(failure.code)) + ": " + failure.detail};
}

smtp::Reply reply_for(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::Delivered:
            return smtp::make_reply(250, "2.0.0", "Delivered");
        case DeliveryStatus::UnknownUser:
            return smtp::make_reply(550, "5.1.1", "No such user here");
        case DeliveryStatus::BadAddress:
            return smtp::make_reply(501, "5.1.3", "Bad recipient address syntax");
        case DeliveryStatus::MailLoop:
            return smtp::make_reply(554, "5.4.6", "Mail loop detected");
        case DeliveryStatus::OverQuotaTemp:
            return smtp::make_reply(452, "4.2.2", "Mailbox full, try again later");
        case DeliveryStatus::OverQuotaPerm:
            return smtp::make_reply(552, "5.2.2", "Mailbox full");
        case DeliveryStatus::TooBig:
            return smtp::make_reply(552, "5.3.4",
                                    "Message size exceeds fixed maximum message size");
        case DeliveryStatus::TempFail:
            return smtp::make_reply(451, "4.3.0", "Temporary local problem, try again later");
        case DeliveryStatus::PermFail:
            return smtp::make_reply(550, "5.3.0", "Local delivery refused");
    }
    return smtp::make_reply(451, "4.3.0", "Temporary local problem, try again later");
}

int exit_code_for(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::Delivered:
            return kExOk;
        case DeliveryStatus::UnknownUser:
        case DeliveryStatus::BadAddress:
            return kExNoUser;
        case DeliveryStatus::MailLoop:
            return kExDataErr;  // Postfix: 5.6.0, bounced, never retried
        case DeliveryStatus::OverQuotaTemp:
        case DeliveryStatus::TempFail:
            return kExTempFail;
        case DeliveryStatus::OverQuotaPerm:
        case DeliveryStatus::TooBig:
            return kExCantCreate;
        case DeliveryStatus::PermFail:
            return kExUnavailable;
    }
    return kExTempFail;
}

bool is_temporary(DeliveryStatus status) {
    return status == DeliveryStatus::OverQuotaTemp || status == DeliveryStatus::TempFail;
}

const char* status_name(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::Delivered:
            return "delivered";
        case DeliveryStatus::UnknownUser:
            return "unknown_user";
        case DeliveryStatus::BadAddress:
            return "bad_address";
        case DeliveryStatus::MailLoop:
            return "mail_loop";
        case DeliveryStatus::OverQuotaTemp:
            return "over_quota_temp";
        case DeliveryStatus::OverQuotaPerm:
            return "over_quota_perm";
        case DeliveryStatus::TooBig:
            return "too_big";
        case DeliveryStatus::TempFail:
            return "temp_fail";
        case DeliveryStatus::PermFail:
            return "perm_fail";
    }
    return "?";
}

}  // namespace postern::mda
