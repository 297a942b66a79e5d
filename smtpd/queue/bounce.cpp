#include "smtpd/queue/bounce.h"

#include <sodium.h>

#include "smtpd/queue/spool_reader.h"
#include "smtpd/received.h"

namespace postern::queue {
namespace {

std::string random_boundary() {
    unsigned char bytes[12];
    randombytes_buf(bytes, sizeof bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "=_postern_";
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

// "550 5.1.1 No such user" -> "5.1.1"; our own replies always carry one.
std::string status_of(const store::QueuedRecipient& r) {
    const std::string& reply = r.last_reply;
    if (reply.size() >= 9 && (reply[4] == '5' || reply[4] == '4') && reply[5] == '.')
        return reply.substr(4, reply.find(' ', 4) - 4);
    return "5.0.0";
}

bool notify_failure(const store::QueuedRecipient& r) {
    if (r.notify == 0) return true;  // RFC 3461 §4.1: the default is FAILURE (and DELAY)
    return (r.notify & store::kNotifyFailure) != 0;
}

std::string human_part(const store::Envelope& original, const std::vector<std::size_t>& failed,
                       const std::string& reporting_mta) {
    std::string text = "This is the mail system at " + reporting_mta +
                       ".\r\n\r\nYour message could not be delivered to one or more recipients.\r\n"
                       "It has not been delivered to them and will not be retried.\r\n\r\n";
    for (std::size_t i : failed) {
        const auto& r = original.recipients[i];
        text += "<" + r.address + ">: ";
        text += r.remote_host.empty() ? "" : "host " + r.remote_host + " said: ";
        text += r.last_reply + "\r\n";
    }
    return text;
}

// RFC 3464 §2.2 per-message fields, then §2.3 per-recipient blocks.
std::string status_part(const store::Envelope& original, const std::vector<std::size_t>& failed,
                        const std::string& reporting_mta) {
    std::string s = "Reporting-MTA: dns; " + reporting_mta + "\r\n";
    if (!original.envid.empty()) s += "Original-Envelope-Id: " + original.envid + "\r\n";
    s += "Arrival-Date: " + smtp::rfc5322_date(static_cast<std::time_t>(original.arrival)) + "\r\n";
    for (std::size_t i : failed) {
        const auto& r = original.recipients[i];
        s += "\r\nFinal-Recipient: rfc822; " + r.address + "\r\n";
        if (!r.orcpt.empty()) s += "Original-Recipient: " + r.orcpt + "\r\n";
        s += "Action: failed\r\nStatus: " + status_of(r) + "\r\n";
        if (!r.remote_host.empty()) {
            s += "Remote-MTA: dns; " + r.remote_host + "\r\n";
            s += "Diagnostic-Code: smtp; " + r.last_reply + "\r\n";
        } else {
            s += "Diagnostic-Code: X-Postern; " + r.last_reply + "\r\n";
        }
    }
    return s;
}

}  // namespace

bool wants_failure_notice(const store::Envelope& original, const std::vector<std::size_t>& failed) {
    if (original.sender.empty()) return false;
    for (std::size_t i : failed) {
        if (notify_failure(original.recipients[i])) return true;
    }
    return false;
}

Bounce make_bounce(const store::Envelope& original, const std::vector<std::size_t>& failed,
                   const std::filesystem::path& original_path, const std::string& reporting_mta,
                   std::int64_t now) {
    std::vector<std::size_t> notified;
    for (std::size_t i : failed) {
        if (notify_failure(original.recipients[i])) notified.push_back(i);
    }
    Bounce b;
    b.original = original_path;
    b.full = original.ret_full && original.size <= kMaxReturnedMessageBytes;
    b.envelope.sender = "";
    b.envelope.arrival = now;
    b.envelope.eight_bit = original.eight_bit || original.smtputf8;
    b.envelope.smtputf8 = original.smtputf8;
    store::QueuedRecipient to;
    to.address = original.sender;
    b.envelope.recipients.push_back(std::move(to));

    const std::string boundary = random_boundary();
    const auto when = static_cast<std::time_t>(now);
    std::string& h = b.head;
    h += "From: Mail Delivery System <MAILER-DAEMON@" + reporting_mta + ">\r\n";
    h += "To: <" + original.sender + ">\r\n";
    h += "Subject: Undelivered Mail Returned to Sender\r\n";
    h += "Date: " + smtp::rfc5322_date(when) + "\r\n";
    h += "Message-ID: " + smtp::make_message_id(reporting_mta, when) + "\r\n";
    h += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
    h += "MIME-Version: 1.0\r\n";
    h += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" +
         boundary + "\"\r\n\r\n";
    h += "This is a MIME-encapsulated delivery status notification.\r\n\r\n";
    h += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    h += human_part(original, notified, reporting_mta);
    // RFC 6533 §6: a report about an internationalised message uses the
    // global-* types so that UTF-8 addresses are legal in it.
    const char* status_type =
        original.smtputf8 ? "message/global-delivery-status" : "message/delivery-status";
    h += "\r\n--" + boundary + "\r\nContent-Type: " + status_type + "\r\n\r\n";
    h += status_part(original, notified, reporting_mta);
    const char* original_type =
        b.full ? (original.smtputf8 ? "message/global" : "message/rfc822")
               : (original.smtputf8 ? "message/global-headers" : "text/rfc822-headers");
    h += "\r\n--" + boundary + "\r\nContent-Type: " + original_type + "\r\n";
    if (b.envelope.eight_bit) h += "Content-Transfer-Encoding: 8bit\r\n";
    h += "\r\n";
    b.tail = "\r\n--" + boundary + "--\r\n";
    return b;
}

Status stream_bounce(const Bounce& bounce, const std::function<bool(std::string_view)>& sink) {
    if (!sink(bounce.head)) return {};
    std::size_t sent = 0;
    std::string carry;     // the last 3 bytes, to find CRLFCRLF across chunks
    bool stopped = false;  // the sink refused a piece: nothing more goes out
    auto copy = [&](std::string_view piece) {
        if (!bounce.full) {
            // Headers only (RET=HDRS): up to and including the CRLF that
            // ends the last field, or kMaxReturnedHeaderBytes.
            const std::string window = carry + std::string(piece);
            const auto end = window.find("\r\n\r\n");
            if (end != std::string::npos) {
                const std::size_t keep = end + 2 > carry.size() ? end + 2 - carry.size() : 0;
                stopped = !sink(piece.substr(0, keep));
                return false;
            }
            if (sent + piece.size() > kMaxReturnedHeaderBytes) {
                stopped = !sink(piece.substr(0, kMaxReturnedHeaderBytes - sent));
                return false;
            }
            carry = window.substr(window.size() - std::min<std::size_t>(3, window.size()));
        }
        sent += piece.size();
        stopped = !sink(piece);
        return !stopped;
    };
    if (auto st = read_chunks(bounce.original, copy); !st) return st;
    if (!stopped) sink(bounce.tail);
    return {};
}

}  // namespace postern::queue
