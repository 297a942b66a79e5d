// One delivery job: the queued messages that have due recipients in one
// destination domain, delivered together (one SMTP connection to the
// domain's MX for all of them, or one LMTP exchange each for a local
// domain), and the spool updated with what happened.
//
// BLOCKING: run_job() runs on the libuv pool. It works only on the spool
// and the network; the runner (queue_runner.h) learns the result from the
// JobReport on the loop thread.
//
// Per message, under its lock (queue_spool.h), so `mailctl queue` and the
// runner never interleave: reload the envelope (it may have changed since
// it was scheduled), deliver the due pending recipients of the domain,
// record each outcome (2xx Delivered; 5xx Failed; 4xx retried with backoff
// until queue.lifetime_seconds, then Failed), enqueue one bounce for the
// new failures, then save the envelope or remove the finished message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "smtpd/queue/remote_delivery.h"
#include "storage/queue_envelope.h"

namespace postern::queue {

struct JobSettings {
    std::filesystem::path queue_dir;
    std::filesystem::path directory_db;  // which domains are ours
    std::filesystem::path lmtp_socket;   // mda --lmtp, for local recipients
    std::string hostname;                // LHLO, bounces' Reporting-MTA
    DeliveryOptions remote;
    std::int64_t lifetime_seconds = 5 * 86400;
    std::int64_t retry_min_seconds = 300;
    std::int64_t retry_max_seconds = 4 * 3600;
};

struct Job {
    std::string domain;            // lower case
    std::vector<std::string> ids;  // messages with due recipients there
};

struct JobReport {
    std::vector<store::Envelope> queued;  // still in the queue, as saved
    std::vector<std::string> gone;        // finished and removed, or deleted meanwhile
    std::vector<std::string> busy;        // locked by someone else (mailctl): try later
    std::vector<std::string> errors;      // spool trouble, for the log
};

// The domain part of an address, lower case ("" when there is none).
std::string domain_of(const std::string& address);

// RFC 5321 §4.5.4.1: retry no sooner than 30 minutes is "typical"; we
// start at retry_min and double up to retry_max: 5m, 10m, 20m ... 4h.
std::int64_t retry_delay(const JobSettings& settings, std::uint32_t attempts);

JobReport run_job(const JobSettings& settings, const Job& job);

}  // namespace postern::queue
