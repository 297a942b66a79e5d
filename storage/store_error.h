// The one error vocabulary of the store.
//
// Every fallible storage call returns StoreResult<T>: a value, or a Failure
// whose code says what kind of thing went wrong and whose detail says exactly
// what (a path, an errno text, an SQLite message). The detail is for the log
// only: each protocol maps the code once (SMTP reply, IMAP response code,
// POP3 -ERR, sysexits) and never shows the detail to a client.
#pragma once

#include <string>
#include <string_view>

#include "common/base/result.h"

namespace postern::store {

enum class StoreError {
    Temp,      // environment failure (disk, I/O, database busy): retry later
    NotFound,  // no such domain, user, alias, mailbox or message
    Exists,    // the thing to create is already there
    Perm,      // permanently refused (e.g. permission denied on the data dir)
    NoQuota,   // the user's quota would be exceeded
    TooBig,    // the message exceeds the size limit
    Invalid,   // malformed input: address syntax, mailbox name, empty password
    InUse,     // cannot delete: still referenced (domain with users)
};

struct Failure {
    StoreError code = StoreError::Temp;
    std::string detail;  // for the log only, never for a client
};

template <typename T>
using StoreResult = Result<T, Failure>;
using StoreStatus = Result<void, Failure>;

inline Unexpected<Failure> store_fail(StoreError code, std::string detail) {
    return {Failure{code, std::move(detail)}};
}

// Stable lowercase names for log lines: "temp", "not_found", ...
std::string_view store_error_name(StoreError code);

// A failure from a system call: EACCES/EPERM/EROFS are Perm, ENOSPC/EDQUOT
// and everything else are Temp. The detail is "<what>: <strerror>".
Failure errno_failure(std::string_view what, int err);

}  // namespace postern::store
