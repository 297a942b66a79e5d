// MessageWriter: THE durable write path. Nothing else puts a message into a
// Maildir (STYLE.md §13).
//
//   auto w = MessageWriter::begin(recipients, options);   // tmp file
//   w->write(chunk); ...                                  // TooBig past the limit
//   w->set_summary(envelope_and_bodystructure);
//   auto delivered = w->commit();                         // all recipients or none
//
// commit(), in this order:
//   1. Quota check for every recipient (NoQuota) - before anything is visible.
//   2. Set the tmp file's mtime to the internal date; then, OVERLAPPED:
//      a. start the tmp file's writeback (sync_file_range, no waiting),
//      b. per recipient: reserve a UID (its own committed index transaction:
//         UIDNEXT+1, durable when it returns: synchronous=FULL),
//      c. fsync the tmp file, whose data was written meanwhile.
//      All must have succeeded before step 3; the file's writes and the WAL
//      flush overlap instead of queueing behind each other.
//   3. Per recipient: link(2) the tmp file to new/<base>,S=<size>,U=<uid>
//      (or cur/…:2,<flags>). One message to N users is one inode with N links;
//      across filesystems (EXDEV) it is copied and fsynced instead.
//   4. fsync every directory that received a link.
//   5. Per recipient: index transaction inserting the message row (file name,
//      size, internal date, flags, modseq, summary), bumping the change feed.
//   6. Unlink the tmp file. Only now is success reported.
// Any failure in 2-5 unlinks every link made, removes the rows already
// added, and returns Temp (or Perm): nothing is left in new/ or the index.
// If commit() is never reached, the destructor unlinks the tmp file.
// commit() may be called once. Blocking (fsync, SQLite): run on the pool.
//
// Indexes: by default begin() and commit() open each recipient's index
// themselves. A long-running writer (mda) passes its own long-lived handles
// instead (begin()'s `indexes`), which saves three SQLite opens per message
// and the directory fsync SQLite does the first time a new connection syncs
// its WAL; and while any connection stays open SQLite never checkpoints and
// deletes the WAL on close (two more fsyncs and an unlink).
//
// Group commit (DESIGN.md "Store") is not done here: batching concurrent
// deliveries would cut the number of device flushes but not the three a
// delivery waits for in turn (steps 2, 4, 5; the order below allows no
// fewer), and concurrent fsyncs from several threads already share flushes
// in the block layer. syncfs(2) is not used either: on ext4 without a
// journal it does not by itself make directory entries durable, and it
// writes back everything dirty on the filesystem. tools/bench/mda/README.md
// has the measurements.
//
// Why the UID is reserved before linking, in its own transaction: the name in
// new/ must carry ,U=<uid> so that reindex can recover it. Crash analysis:
//   - crash before 3: only a file in tmp/ (never indexed; remove_stale_tmp()
//     deletes it after kStaleTmpAge, e.g. during reindex), perhaps with
//     reserved UIDs that are never used.
//   - crash after a reservation, before its link: a UID is skipped. Harmless:
//     UIDs must ascend, not be dense (RFC 3501 §2.3.1.1).
//   - crash after the link, before 5 committed: the file is in new/ with a
//     UID that no other message can ever get (UIDNEXT already moved past it,
//     durably, before the link was made), so reindex adopts it under that
//     same UID; nothing is renumbered. The file's bytes were durable before
//     the link existed, so the adopted file is whole. Since success was never
//     reported, the sender retries, so the message may then exist twice - the
//     usual at-least-once outcome of mail delivery.
//   - crash after 5: the message is fully delivered.
// Had we linked first and advanced UIDNEXT in the same transaction as the
// row, a crash in between would leave a ,U= name that the next delivery
// would allocate again: two files with one UID, and reindex would have to
// renumber one of them. Steps 4 and 5 stay in order (not overlapped like
// step 2) so that a crash can never leave a durable row whose link was lost.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "storage/data_dir.h"
#include "storage/mailbox_index.h"

namespace postern::store {

struct Recipient {
    UserPaths paths;
    std::string mailbox{kInbox};
    Flags flags = 0;                   // non-zero: delivered into cur/ with these flags
    std::uint64_t quota_bytes = 0;     // 0 = unlimited
    std::uint64_t quota_messages = 0;  // 0 = unlimited
};

struct DeliveryOptions {
    // The default matches SmtpLimits::max_message_bytes (50 MiB); the caller
    // passes its own configured limit.
    std::uint64_t max_message_bytes = 50u << 20;
    std::int64_t internal_date = 0;  // seconds since the epoch; 0 = now
};

struct Delivered {
    std::filesystem::path home;  // the recipient's UserPaths::home
    std::string mailbox;
    std::uint32_t uid = 0;
    std::filesystem::path file;
};

// Points where tests make commit() fail, to prove nothing is left behind.
// CrossDevice does not fail: it makes link(2) report EXDEV so the copy
// fallback runs.
enum class FailPoint { None, FileFsync, Link, DirFsync, IndexAdd, CrossDevice };

// NoQuota if one more message of `size` bytes would exceed the recipient's
// quota. The mda calls it per recipient before adding it (LMTP answers per
// recipient); commit() checks again.
StoreStatus check_quota(MailboxIndex& index, const Recipient& r, std::uint64_t size);

class MessageWriter {
  public:
    // Invalid without recipients; Temp/Perm if the tmp file cannot be created.
    // `indexes`: empty, or one open index per recipient (same order), which
    // the caller keeps alive and uses for nothing else until commit() has
    // returned or the writer is gone.
    static StoreResult<MessageWriter> begin(std::vector<Recipient> recipients,
                                            DeliveryOptions options = {},
                                            std::vector<MailboxIndex*> indexes = {});
    MessageWriter(MessageWriter&& other) noexcept;
    MessageWriter& operator=(MessageWriter&&) = delete;
    MessageWriter(const MessageWriter&) = delete;
    ~MessageWriter();

    // TooBig once the total exceeds max_message_bytes; after any failure the
    // writer is spent and commit() returns that failure.
    StoreStatus write(std::string_view chunk);
    // Opaque cached data (envelope, body structure) stored with every row.
    void set_summary(std::string summary) { summary_ = std::move(summary); }
    std::uint64_t size() const { return size_; }
    const std::filesystem::path& tmp_path() const { return tmp_path_; }

    StoreResult<std::vector<Delivered>> commit();

    // Fails commit() at `point`, for recipient number `recipient` (0-based).
    void fail_at_for_test(FailPoint point, std::size_t recipient = 0) {
        fail_point_ = point;
        fail_recipient_ = recipient;
    }

  private:
    struct Linked;
    using Reservations = std::vector<MailboxIndex::Reservation>;
    MessageWriter(std::vector<Recipient> recipients, DeliveryOptions options, int fd,
                  std::filesystem::path tmp_path, std::vector<MailboxIndex*> indexes);
    bool injected(FailPoint point, std::size_t recipient) const;
    StoreResult<std::vector<MailboxIndex*>> open_indexes(std::vector<MailboxIndex>& owned);
    StoreResult<Reservations> sync_and_reserve(const std::vector<MailboxIndex*>& indexes);
    StoreStatus link_one(const MailboxIndex::Reservation& reservation, const Recipient& r,
                         std::size_t i, std::vector<Linked>& linked);
    StoreStatus sync_dirs(const std::vector<Linked>& linked);
    void discard(const std::vector<MailboxIndex*>& indexes, std::vector<Linked>& linked,
                 std::size_t rows_added);

    std::vector<Recipient> recipients_;
    std::vector<MailboxIndex*> indexes_;  // caller's, or empty: commit() opens its own
    DeliveryOptions options_;
    int fd_ = -1;
    std::filesystem::path tmp_path_;
    std::string base_;
    std::uint64_t size_ = 0;
    std::string summary_;
    std::optional<Failure> failed_;
    bool committed_ = false;
    FailPoint fail_point_ = FailPoint::None;
    std::size_t fail_recipient_ = 0;
};

}  // namespace postern::store
