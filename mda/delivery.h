// Delivery: one received message, its envelope recipients, their mailboxes.
//
// For each envelope recipient (RCPT address), in order:
//   1. resolve it (resolver.h) to (user, mailbox) targets;
//   2. refuse a mail loop: too many Received fields, or a Delivered-To equal
//      to the recipient or to one of its users (trace.h) → 554 5.4.6;
//   3. prepend the trace fields, parse the result ONCE with
//      mail::summarize() and keep the serialized summary (ENVELOPE,
//      BODYSTRUCTURE, sizes, line counts, section offsets) for the index, so
//      imapd never re-parses the file for those;
//   4. check each target's quota (store::check_quota), dropping the full
//      ones (452 4.2.2 or 552 5.2.2 per delivery.over_quota) - MessageWriter
//      commits all of its recipients or none, so this is done first;
//   5. write the file ONCE through store::MessageWriter for all remaining
//      targets: tmp/ → fsync → link into each new/ (one inode, hard links)
//      → fsync the directories → index rows and UIDs committed. Only then is
//      the recipient reported delivered.
// Each target's index is leased from the store::IndexPool (index_pool.h) if one is
// set, else opened for this delivery; the quota check and the writer use
// that one connection.
// A recipient whose targets all succeed is Delivered. If any target failed
// temporarily the recipient is reported with that temporary status (the
// sender retries; targets already delivered may then get a second copy:
// at-least-once, never lost); otherwise, if any was delivered, Delivered
// (the rest is logged); else the first failure.
//
// Stored bytes (the line-ending decision): the file is EXACTLY the trace
// fields followed by the message bytes as received - CRLF from LMTP, bare LF
// as Postfix pipes it, NULs, long lines, 8-bit headers and broken MIME left
// as they came. The trace fields use the message's own line ending. The
// summary's *_crlf sizes (RFC822.SIZE, BODYSTRUCTURE) count a bare LF as
// CRLF; imapd converts bare-LF files when it serves them.
//
// Hard links: the trace fields name the RCPT address, so the bytes differ
// between envelope recipients; one file is shared by all mailboxes one RCPT
// address fans out to (aliases, catch-all), one file per RCPT address.
//
// New-mail notification: every index commit in MessageWriter bumps the
// user's change counter and rewrites <home>/index.changed (change_feed.h);
// imapd watches that file with a uv_fs_event and reads the rows above its
// last modseq, so IDLE reports the message as soon as the commit is done.
//
// Blocking (SQLite, fsync): run on the libuv pool. A Deliverer uses one
// Store and must stay on one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/log/log.h"
#include "mda/mda_status.h"
#include "mda/resolver.h"
#include "storage/index_pool.h"
#include "storage/store.h"

namespace postern::mda {

struct DeliverySettings {
    std::uint64_t max_message_bytes = 50u << 20;  // smtp.max_message_bytes
    std::size_t max_received = 100;               // smtp.max_received_headers
    config::OverQuota over_quota = config::OverQuota::Temporary;
    std::size_t max_mime_depth = 32;  // delivery.max_mime_nesting_depth
    ResolverOptions resolver;

    static DeliverySettings from_config(const config::Config& cfg);
};

struct Envelope {
    std::string sender;  // reverse path without brackets; "" = null sender
    std::vector<std::string> recipients;
    log::LogContext log;  // the LMTP session's log prefix; empty in pipe mode
};

struct RecipientResult {
    std::string recipient;
    Outcome outcome;
    std::vector<store::Delivered> delivered;
};

// The real DirectoryLookup: the store's directory and per-user indexes.
class StoreLookup final : public DirectoryLookup {
  public:
    explicit StoreLookup(store::Store& store) : store_(store) {}
    store::StoreResult<std::optional<store::User>> find_user(const std::string& address) override;
    store::StoreResult<std::vector<std::string>> alias_targets(const std::string& address) override;
    store::StoreResult<std::vector<std::string>> catch_all(const std::string& domain) override;
    store::StoreResult<bool> is_local_domain(const std::string& domain) override;
    store::StoreResult<bool> mailbox_exists(const store::User& user,
                                            const std::string& mailbox) override;

  private:
    store::Store& store_;
};

class Deliverer {
  public:
    Deliverer(store::Store& store, DeliverySettings settings)
        : store_(store), lookup_(store), settings_(std::move(settings)) {}

    // Resolution alone (LMTP answers RCPT with it).
    Result<std::vector<Target>, Outcome> resolve(std::string_view recipient);
    // One result per envelope recipient, in order.
    std::vector<RecipientResult> deliver(const Envelope& envelope, std::string_view message);

    const DeliverySettings& settings() const { return settings_; }
    // Long-lived index connections (StoreBackend's); null = open per delivery.
    void set_index_pool(store::IndexPool* pool) { pool_ = pool; }
    // Makes every MessageWriter commit fail at `point` (see message_writer.h).
    void fail_at_for_test(store::FailPoint point) { fail_point_ = point; }

  private:
    void deliver_to(const Envelope& envelope, std::string_view message, std::string_view newline,
                    const std::vector<Target>& targets, RecipientResult& result);
    Outcome write_once(std::vector<store::Recipient> recipients,
                       std::vector<store::MailboxIndex*> indexes, const std::string& bytes,
                       std::string summary, std::vector<store::Delivered>& delivered);

    store::Store& store_;
    StoreLookup lookup_;
    DeliverySettings settings_;
    store::FailPoint fail_point_ = store::FailPoint::None;
    store::IndexPool* pool_ = nullptr;
};

}  // namespace postern::mda
