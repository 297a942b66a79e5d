// The two mappings of DeliveryStatus: LMTP replies and sysexits.
#include <doctest/doctest.h>

#include "common/base/sysexits.h"
#include "mda/mda_status.h"

namespace postern::mda {
namespace {

TEST_CASE("status: each outcome maps to the reply and exit code the issue asks for") {
    struct Row {
        DeliveryStatus status;
        int code;
        const char* enhanced;
        int exit_code;
    };
    const Row rows[] = {
        {DeliveryStatus::Delivered, 250, "2.0.0", kExOk},
        {DeliveryStatus::UnknownUser, 550, "5.1.1", kExNoUser},
        {DeliveryStatus::BadAddress, 501, "5.1.3", kExNoUser},
        {DeliveryStatus::MailLoop, 554, "5.4.6", kExDataErr},
        {DeliveryStatus::OverQuotaTemp, 452, "4.2.2", kExTempFail},
        {DeliveryStatus::OverQuotaPerm, 552, "5.2.2", kExCantCreate},
        {DeliveryStatus::TooBig, 552, "5.3.4", kExCantCreate},
        {DeliveryStatus::TempFail, 451, "4.3.0", kExTempFail},
        {DeliveryStatus::PermFail, 550, "5.3.0", kExUnavailable},
    };
    for (const auto& row : rows) {
        CAPTURE(status_name(row.status));
        auto r = reply_for(row.status);
        CHECK_MESSAGE(r.code == row.code, "got " << r.code << ", want " << row.code);
        CHECK_MESSAGE(r.enhanced == row.enhanced,
                      "got " << r.enhanced << ", want " << row.enhanced);
        CHECK_MESSAGE(exit_code_for(row.status) == row.exit_code,
                      "got " << exit_code_for(row.status) << ", want " << row.exit_code);
    }
}

TEST_CASE("status: store errors, with the over-quota policy") {
    using config::OverQuota;
    using store::StoreError;
    CHECK(status_for(StoreError::NoQuota, OverQuota::Temporary) == DeliveryStatus::OverQuotaTemp);
    CHECK(status_for(StoreError::NoQuota, OverQuota::Permanent) == DeliveryStatus::OverQuotaPerm);
    CHECK(status_for(StoreError::Temp, OverQuota::Permanent) == DeliveryStatus::TempFail);
    CHECK(status_for(StoreError::Perm, OverQuota::Temporary) == DeliveryStatus::PermFail);
    CHECK(status_for(StoreError::TooBig, OverQuota::Temporary) == DeliveryStatus::TooBig);
    CHECK(status_for(StoreError::NotFound, OverQuota::Temporary) == DeliveryStatus::UnknownUser);
    // The detail stays out of the reply.
    auto o =
        outcome_for(store::Failure{StoreError::Temp, "/secret/path: ENOSPC"}, OverQuota::Temporary);
    CHECK(o.detail.find("ENOSPC") != std::string::npos);
    CHECK(smtp::format_reply(reply_for(o.status)).find("secret") == std::string::npos);
}

}  // namespace
}  // namespace postern::mda
