// DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030 §2): the message itself.
//
// DATA: "354", then lines until CRLF.CRLF, dot-unstuffed by common/smtp's
// DotDecoder. The LineReader frames lines; each line is handed back to the
// decoder with the exact terminator it had (CRLF, or a bare LF it flagged),
// so a bare LF or CR can never end the message and any message containing
// one is refused (550 5.6.0): the SMTP smuggling sequences "\n.\n",
// "\r\n.\n", "\n.\r\n", "\r.\r" ... stay inside the message and sink it.
// While DATA runs, the line cap is raised to max_data_line_bytes; a longer
// line sinks the message (550 5.6.0) rather than being cut.
//
// BDAT: the chunk is read in counted mode and never parsed. It is consumed
// even when the command is refused, since the client has already sent it.
//
// End of message: size (552 5.3.4), loop (554 5.4.6), spool trouble
// (451 4.3.0); else the trace fields are prepended and the message goes to
// mda over LMTP on the pool. The reply is 250 only if mda accepted it for
// every recipient (lmtp_client.h, aggregate_replies), or for some while
// the others went to the outbound queue for retry or bounce
// (queue_handoff.h). A submission with a remote recipient goes whole to
// the queue instead: 250 once the spool has it on disk.
#include <ctime>

#include "common/log/log.h"
#include "smtpd/queue_handoff.h"
#include "smtpd/received.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {

void SmtpSession::cmd_data(const Command&) {
    if (tx_->recipients().empty()) {
        reply(554, "5.5.1", "No valid recipients");
        return;
    }
    tx_->begin_data();
    reader().set_max_line_bytes(context_.limits.max_data_line_bytes);
    enter(State::Data);
    reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void SmtpSession::on_data_line(const net::Line& line) {
    std::string raw(line.text);
    raw += line.flags.bare_lf ? "\n" : "\r\n";
    decoded_.clear();
    DotDecoder& dot = *tx_->data();
    dot.feed(raw, decoded_);
    tx_->add_body(decoded_);
    if (!dot.done()) return;
    reader().set_max_line_bytes(limits().max_line_bytes);
    if (dot.saw_bare_newline()) {
        log::warn(log_context(), "bare-newline-in-data").kv("tx", tx_id_);
    }
    std::optional<ParseError> error = dot_result_error(dot.result());
    if (!error && tx_->line_too_long()) {
        error = parse_error(550, "5.6.0", "Message line too long");
    }
    if (error) {
        log::info(log_context(), "message-refused").kv("tx", tx_id_).kv("reason", error->text);
        reset_transaction();
        reply(to_reply(*error));
        return;
    }
    finish_message();
}

void SmtpSession::on_data_too_long() {
    // The reader dropped the line up to its LF; keep the decoder at a line
    // start so only CRLF.CRLF can still end the message.
    tx_->set_line_too_long();
    decoded_.clear();
    tx_->data()->feed("X\r\n", decoded_);
}

void SmtpSession::cmd_bdat(const Command& cmd) {
    BdatChunk chunk{.last = cmd.bdat.last, .error = std::nullopt};
    if (!tx_) {
        chunk.error = make_reply(503, "5.5.1", "Need MAIL and RCPT before BDAT");
    } else if (tx_->recipients().empty()) {
        chunk.error = make_reply(554, "5.5.1", "No valid recipients");
    } else {
        tx_->set_chunking();
        enter(State::Chunking);
    }
    chunk_ = std::move(chunk);
    if (cmd.bdat.chunk_bytes == 0) {
        finish_chunk();
        return;
    }
    reader().expect_bytes(cmd.bdat.chunk_bytes);
}

void SmtpSession::on_chunk(const net::Chunk& chunk) {
    if (chunk_ && !chunk_->error && tx_) tx_->add_chunk(chunk.bytes);
    if (chunk.last) finish_chunk();
}

void SmtpSession::finish_chunk() {
    BdatChunk chunk = std::move(*chunk_);
    chunk_.reset();
    if (chunk.error) {
        reply(*chunk.error);
        count_bad_command();
        return;
    }
    if (tx_->too_big()) {
        log::info(log_context(), "message-refused").kv("tx", tx_id_).kv("reason", "too big");
        reset_transaction();
        reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        return;
    }
    if (!chunk.last) {
        reply(250, "2.0.0", std::to_string(tx_->chunk_bytes()) + " octets received");
        return;
    }
    finish_message();
}

std::string SmtpSession::trace_prefix() {
    std::time_t now = std::time(nullptr);
    ReceivedInfo info{
        .helo = helo_,
        // RFC 5321 §4.1.3: IPv6 address literals carry the "IPv6:" tag.
        .client_ip = (peer().is_v6() ? "IPv6:" : "") + peer().ip_string(),
        .hide_client = context_.profile.hide_client_ip,
        .by_host = context_.hostname,
        .program = context_.profile.name,
        .esmtp = esmtp_,
        .tls = tls_active(),
        .authenticated = user_.has_value(),
        .smtputf8 = tx_->params().smtputf8,
        .tls_description = tls_active() ? connection().tls_description() : std::string(),
        .id = tx_id_,
        .for_recipient =
            tx_->recipients().size() == 1 ? tx_->recipients().front().address : std::string(),
        .when = now,
    };
    std::string prefix = format_received(info);
    if (context_.profile.add_missing_message_id) {
        if (!tx_->headers().has_message_id())
            prefix += "Message-ID: " + make_message_id(context_.hostname, now) + "\r\n";
        if (!tx_->headers().has_date()) prefix += "Date: " + rfc5322_date(now) + "\r\n";
    }
    return prefix;
}

void SmtpSession::finish_message() {
    if (tx_->spool_error()) {
        log::error(log_context(), "spool-failed")
            .kv("tx", tx_id_)
            .kv("detail", *tx_->spool_error());
        reset_transaction();
        reply(451, "4.3.0", "Local error in processing, try again later");
        return;
    }
    if (tx_->headers().received_count() > context_.limits.max_received_headers) {
        log::warn(log_context(), "mail-loop").kv("tx", tx_id_);
        reset_transaction();
        reply(554, "5.4.6", "Too many Received fields: mail loop detected");
        return;
    }
    // The transaction moves into the job: the pool thread reads its spool
    // while the session may vanish (client gone), never the other way round.
    std::string prefix = trace_prefix();
    auto tx = std::make_shared<Transaction>(std::move(*tx_));
    if (has_remote_recipient(*tx)) {
        enqueue_message(std::move(tx), std::move(prefix));
        return;
    }
    auto request = std::make_shared<LmtpRequest>();
    request->prefix = std::move(prefix);
    request->socket = context_.lmtp_socket;
    request->lhlo_host = context_.hostname;
    request->sender = tx->sender().address();
    request->smtputf8 = tx->params().smtputf8;
    request->eight_bit = tx->params().body == Body::EightBitMime;
    for (const auto& r : tx->recipients())
        request->recipients.push_back(r.address);
    request->timeout = context_.lmtp_timeout;
    log::info(log_context(), "data").kv("tx", tx_id_).kv("bytes", tx->spool().size());
    reset_transaction();
    auto dir = context_.queue_dir;
    auto user = user_.value_or("");
    await<DeliveryOutcome>(
        [tx, request, dir, user] {
            request->body = [&spool = tx->spool()](const auto& sink) {
                return spool.read_all(sink);
            };
            DeliveryOutcome out{lmtp_deliver(*request), std::nullopt};
            if (partly_delivered(out.lmtp.replies))
                out.deferred =
                    defer_failures(dir, *tx, user, request->prefix, out.lmtp, std::time(nullptr));
            return out;
        },
        &SmtpSession::on_delivered);
}

void SmtpSession::enqueue_message(std::shared_ptr<Transaction> tx, std::string prefix) {
    store::Envelope envelope = queue_envelope(*tx, user_.value_or(""), std::time(nullptr));
    log::info(log_context(), "data").kv("tx", tx_id_).kv("bytes", tx->spool().size());
    reset_transaction();
    auto dir = context_.queue_dir;
    await<QueueOutcome>(
        [tx, dir, envelope = std::move(envelope), prefix = std::move(prefix)]() mutable {
            return enqueue(dir, std::move(envelope), prefix, tx->spool());
        },
        &SmtpSession::on_queued);
}

void SmtpSession::on_queued(QueueOutcome outcome) {
    if (!outcome.error.empty()) {
        log::error(log_context(), "enqueue-failed").kv("tx", tx_id_).kv("detail", outcome.error);
        reply(451, "4.3.0", "Local error in processing, try again later");
    } else {
        log::info(log_context(), "queued").kv("tx", tx_id_).kv("queue_id", outcome.id);
        reply(250, "2.0.0", "Message queued as " + outcome.id);
    }
    resume();
}

void SmtpSession::on_delivered(DeliveryOutcome delivery) {
    const LmtpOutcome& outcome = delivery.lmtp;
    if (!outcome.error.empty()) {
        log::error(log_context(), "lmtp-failed").kv("tx", tx_id_).kv("detail", outcome.error);
    }
    Reply r = aggregate_replies(outcome.replies);
    for (std::size_t i = 0; i < outcome.replies.size(); ++i) {
        log::info(log_context(), "delivery")
            .kv("tx", tx_id_)
            .kv("to", i < outcome.recipients.size() ? outcome.recipients[i] : std::string())
            .kv("code", outcome.replies[i].code)
            .kv("status", outcome.replies[i].enhanced);
    }
    if (delivery.deferred) {
        const QueueOutcome& q = *delivery.deferred;
        if (q.error.empty()) {
            log::info(log_context(), "deferred").kv("tx", tx_id_).kv("queue_id", q.id);
            r = make_reply(250, "2.0.0", "");
        } else {
            // The queue could not take them: the client must retry, and the
            // recipients mda took may get the message twice (RFC 5321 §6.1
            // prefers that to a loss).
            log::error(log_context(), "defer-failed").kv("tx", tx_id_).kv("detail", q.error);
        }
    }
    if (r.positive()) r.lines = {"Message accepted for delivery, id " + tx_id_};
    reply(r);
    resume();
}

}  // namespace postern::smtp
