#include "storage/store_error.h"

#include <cerrno>
#include <cstring>

namespace postern::store {

std::string_view store_error_name(StoreError code) {
    switch (code) {
        case StoreError::Temp:
            return "temp";
        case StoreError::NotFound:
            return "not_found";
        case StoreError::Exists:
            return "exists";
        case StoreError::Perm:
            return "perm";
        case StoreError::NoQuota:
            return "no_quota";
        case StoreError::TooBig:
            return "too_big";
        case StoreError::Invalid:
            return "invalid";
        case StoreError::InUse:
            return "in_use";
    }
    return "unknown";
}

Failure errno_failure(std::string_view what, int err) {
    // A permission problem will not fix itself on retry; everything else on
    // the disk (ENOSPC, EIO, EMFILE, ...) might.
    StoreError code =
        (err == EACCES || err == EPERM || err == EROFS) ? StoreError::Perm : StoreError::Temp;
    std::string detail(what);
    detail += ": ";
    detail += std::strerror(err);
    return Failure{code, std::move(detail)};
}

}  // namespace postern::store
