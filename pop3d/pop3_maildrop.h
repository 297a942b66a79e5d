// The POP3 maildrop: the user's INBOX as the index sees it, frozen at login
// (RFC 1939 §4: message numbers stay fixed for the session; mail arriving
// meanwhile appears at the next login).
//
// - UIDL is "<uidvalidity>.<uid>" of INBOX. Both survive `mailctl reindex`
//   (reindex keeps UIDVALIDITY and never renumbers), so the same message has
//   the same UIDL in every session; a message moved out and back gets a new
//   UID and so a new UIDL (RFC 1939 §7: unique-ids are never reused).
// - Sizes are wire sizes (pop3_wire.h), computed from the file once and kept
//   in a process-wide SizeCache: a Maildir file's content never changes.
// - DELE is applied by expunge_maildrop() at QUIT only, as an index expunge
//   that IMAP sessions see like any other.
// - MaildropLocks gives one POP3 session per maildrop (RFC 1939 §8: the
//   server acquires an exclusive-access lock); the loser gets [IN-USE].
// Every function here except MaildropLocks blocks on disk: pool only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log/secret.h"
#include "storage/directory.h"
#include "storage/mailbox_index.h"
#include "storage/store_error.h"

namespace postern::pop3 {

struct MaildropMessage {
    store::MessageInfo info;  // uid and file as indexed at login
    std::string uidl;
    std::uint64_t wire_size = 0;
    std::filesystem::path path;  // absolute, as indexed at login
    bool deleted = false;        // DELE in this session; undone by RSET
};

struct Maildrop {
    store::User user;
    std::uint32_t uidvalidity = 0;
    std::vector<MaildropMessage> messages;  // message number n is messages[n - 1]
};

// Wire sizes by "<home>|<uidvalidity>.<uid>". Shared by all sessions and the
// pool threads, hence the mutex. Bounded: cleared past kMaxEntries.
class SizeCache {
  public:
    // About 20 MB of keys at the bound; far more than all users' INBOXes.
    static constexpr std::size_t kMaxEntries = 200000;
    std::optional<std::uint64_t> get(const std::string& key);
    void put(const std::string& key, std::uint64_t size);

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> sizes_;
};

// Loop thread only.
class MaildropLocks {
  public:
    bool try_lock(const std::string& key) { return held_.insert(key).second; }
    void unlock(const std::string& key) { held_.erase(key); }
    bool locked(const std::string& key) const { return held_.count(key) > 0; }

  private:
    std::unordered_set<std::string> held_;
};

// A StoreResult carried back from the pool. (submit_work needs a default-
// constructible result, and GCC 12 warns falsely about optional<Result>.)
template <typename T>
struct PoolResult {
    std::optional<T> value;  // empty on failure
    store::Failure failure;
    static PoolResult from(store::StoreResult<T> r) {
        PoolResult out;
        if (r) {
            out.value = std::move(*r);
        } else {
            out.failure = std::move(r.error());
        }
        return out;
    }
};

store::StoreResult<Maildrop> load_maildrop(const std::filesystem::path& data_dir,
                                           const store::User& user, SizeCache& sizes);

// The wire size of one file, reading it in chunks.
store::StoreResult<std::uint64_t> wire_size_of(const std::filesystem::path& file);

// Opens a message for reading; if it was renamed since login (an IMAP flag
// change moves new/ → cur/), finds it again through the index. Returns an fd.
store::StoreResult<int> open_message(const std::filesystem::path& data_dir, const store::User& user,
                                     const MaildropMessage& m);

// Expunges `uids` from INBOX; returns how many were actually removed.
store::StoreResult<std::size_t> expunge_maildrop(const std::filesystem::path& data_dir,
                                                 const store::User& user,
                                                 const std::vector<std::uint32_t>& uids);

}  // namespace postern::pop3
