// The outbound queue's spool: messages that submissiond accepted for
// delivery elsewhere, and what has become of each recipient.
//
// Layout under config paths.queue_dir (all 0700, created by open()):
//   tmp/        files being written; anything here after a crash is garbage
//   msg/<id>    the message as received (CRLF lines, our trace fields
//               first), never changed after enqueue
//   env/<id>    the envelope (JSON, envelope.h), replaced atomically
// A message exists once env/<id> exists: enqueue() writes and fsyncs the
// message, links it into msg/, fsyncs msg/, then writes the envelope to
// tmp/, fsyncs it, renames it into env/ and fsyncs env/ (the commit point).
// A crash before the rename leaves an orphan msg/<id> that open() removes;
// after it, the whole message. save() replaces env/<id> the same way, so
// an envelope is always either the old or the new one.
//
// Concurrency: the queue runner and `mailctl queue` both change envelopes.
// Whoever changes or removes a message holds its lock (flock on msg/<id>)
// for the time of the change; the runner holds it for a whole delivery
// attempt, so `mailctl queue delete` of a message in flight is refused
// rather than racing the runner's save.
//
// BLOCKING: every call does file I/O and fsync; call from the libuv pool or
// from a command-line tool, never from the loop thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "storage/queue_envelope.h"

namespace postern::store {

// Produces a message's bytes in order by calling sink with pieces; returns
// failure (and stops) when the source fails; sink returns false to stop.
// smtp::Spool::read_all() has this shape.
using BodySource = std::function<Status(const std::function<bool(std::string_view)>& sink)>;

// An exclusive claim on one queued message. Released by the destructor.
class QueueLock {
  public:
    QueueLock() = default;
    explicit QueueLock(int fd) : fd_(fd) {}
    ~QueueLock();
    QueueLock(QueueLock&& other) noexcept;
    QueueLock& operator=(QueueLock&& other) noexcept;
    QueueLock(const QueueLock&) = delete;
    QueueLock& operator=(const QueueLock&) = delete;
    bool held() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

class QueueSpool {
  public:
    // Creates the directories when missing. Cheap: every enqueue and every
    // delivery job opens the spool.
    static Result<QueueSpool> open(const std::filesystem::path& dir);

    // Removes tmp/ leftovers and msg/ files without an envelope
    // (interrupted enqueues); reads the whole spool, so the runner calls it
    // at start and with its periodic rescans, not per message. A writer
    // flock()s its files until they are committed, and only files that can
    // be locked without waiting are removed, so recover() is safe while
    // submissiond enqueues.
    Status recover();

    // Writes the message durably and returns its new id (envelope.id is
    // ignored and set; envelope.size is set from the bytes written). Only
    // after this returns may the SMTP client be told 250.
    Result<std::string> enqueue(Envelope envelope, const BodySource& body);

    // Ids of every committed message, oldest arrival first (ids sort by
    // the time of their enqueue).
    Result<std::vector<std::string>> list() const;
    // Fails with a message naming the id when there is no such message.
    Result<Envelope> load(std::string_view id) const;
    // Replaces the envelope atomically (see above). The caller holds the lock.
    // Fails, writing nothing, when the message was removed meanwhile: a late
    // save() never brings a deleted message back.
    Status save(const Envelope& envelope);
    // Removes envelope then message. The caller holds the lock.
    Status remove(std::string_view id);

    // wait=false: returns an unheld lock when someone else holds it.
    // Fails when the message does not exist.
    Result<QueueLock> lock(std::string_view id, bool wait) const;

    std::filesystem::path message_path(std::string_view id) const;
    // The directory whose changes mean "look again" (env/): the runner
    // watches it (inotify via uv_fs_event), mailctl changes land there.
    std::filesystem::path envelope_dir() const;
    const std::filesystem::path& dir() const { return dir_; }

    // True for a string enqueue() could have returned (no path tricks):
    // mailctl checks ids given on its command line with it. An id is 16
    // lowercase hex digits of microseconds since the epoch, then 8 random
    // ones, e.g. "0006447a9b1c2d3e01234567".
    static bool valid_id(std::string_view id);

  private:
    explicit QueueSpool(std::filesystem::path dir) : dir_(std::move(dir)) {}
    std::filesystem::path dir_;
};

}  // namespace postern::store
