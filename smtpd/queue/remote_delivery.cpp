#include "smtpd/queue/remote_delivery.h"

#include <algorithm>
#include <memory>

#include "common/log/log.h"
#include "common/tls/tls_context.h"
#include "smtpd/queue/smtp_client_session.h"
#include "smtpd/queue/smtp_client_transaction.h"

namespace postern::queue {
namespace {

// Where to connect: hosts in order, each with its addresses.
struct Target {
    std::string name;
    std::vector<std::string> ips;
};

Result<std::vector<Target>, smtp::Reply> relayhost_targets(const DeliveryOptions& options) {
    const Relayhost& relay = *options.relayhost;
    auto addresses = dns::lookup_addresses(options.dns, relay.host);
    if (addresses.outcome != dns::Outcome::Found) {
        // The relayhost is our configuration: never bounce mail over it.
        return fail(smtp::make_reply(451, "4.4.3",
                                     "Cannot find the address of relayhost " + relay.host +
                                         (addresses.error.empty() ? "" : ": " + addresses.error)));
    }
    return std::vector<Target>{Target{relay.host, std::move(addresses.ips)}};
}

Result<std::vector<Target>, smtp::Reply> domain_targets(const DeliveryOptions& options,
                                                        const std::string& domain) {
    auto route = dns::route_domain(options.dns, domain);
    switch (route.kind) {
        case dns::Route::Kind::NullMx:
            return fail(smtp::make_reply(
                550, "5.1.10", "Domain " + domain + " accepts no mail (null MX, RFC 7505)"));
        case dns::Route::Kind::NoDomain:
            return fail(smtp::make_reply(550, "5.1.2", "Bad destination system: " + route.error));
        case dns::Route::Kind::NoHosts:
            return fail(smtp::make_reply(
                451, "4.4.3", "No MX host of " + domain + " has an address: " + route.error));
        case dns::Route::Kind::TempFail:
            return fail(smtp::make_reply(451, "4.4.3",
                                         "DNS lookup failed for " + domain + ": " + route.error));
        case dns::Route::Kind::Hosts:
            break;
    }
    std::vector<Target> targets;
    for (auto& host : route.hosts)
        targets.push_back(Target{host.name, std::move(host.ips)});
    return targets;
}

SessionTimeouts session_timeouts(const DeliveryOptions& o) {
    SessionTimeouts t;
    t.connect = o.connect_timeout;
    t.greeting = o.greeting_timeout;
    t.command = o.command_timeout;
    // RFC 5321 §4.5.3.2.4: DATA initiation is 2 minutes; never above the command timeout.
    t.data_init = std::min<std::chrono::milliseconds>(std::chrono::minutes(2), o.command_timeout);
    t.data_block = o.data_block_timeout;
    t.data_done = o.data_done_timeout;
    return t;
}

// Relayhost: verified TLS with the configured CAs. MX hosts: opportunistic
// (RFC 7435), verified against the system store only to log the result.
Result<std::unique_ptr<tls::TlsContext>, smtp::Reply> client_tls(const DeliveryOptions& options) {
    const bool relay = options.relayhost.has_value();
    auto ctx = tls::TlsContext::client(relay, relay ? options.relayhost->ca_file : std::string());
    if (!ctx) {
        log::error("smtp-client-tls-context").kv("error", ctx.error().message);
        if (relay)
            return fail(smtp::make_reply(451, "4.7.5", "TLS for the relayhost is unavailable"));
        return std::unique_ptr<tls::TlsContext>();  // plaintext only
    }
    if (!relay) SSL_CTX_set_default_verify_paths((*ctx)->native());
    return std::move(*ctx);
}

void log_outcome(const OutboundMessage& message, const MessageOutcome& outcome) {
    for (std::size_t i = 0; i < message.recipients.size(); ++i) {
        const auto& r = outcome.recipients[i];
        log::info("remote-delivery")
            .kv("id", message.id)
            .kv("to", message.recipients[i].address)
            .kv("remote", r.remote_host)
            .kv("reply", smtp::reply_text(r.reply));
    }
}

void fill_all(const OutboundMessage& message, MessageOutcome& outcome, const smtp::Reply& reply,
              const std::string& remote) {
    outcome.recipients.assign(message.recipients.size(), RecipientOutcome{reply, remote});
}

// Every message not yet done, over one session, until the connection
// breaks (what is left goes to the next address).
void run_session(ClientSession& session, const std::vector<OutboundMessage>& batch,
                 std::vector<MessageOutcome>& out, std::vector<bool>& done) {
    bool first = true;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (done[i]) continue;
        if (!first) {
            // RFC 5321 §4.1.1.5: a clean slate for the next transaction.
            auto ok = session.connection().send("RSET\r\n", session.timeouts().command);
            auto reply = ok ? session.connection().read_reply(session.timeouts().command)
                            : IoResult<smtp::Reply>(fail(ok.error()));
            if (!reply || reply->code != 250) return;
        }
        first = false;
        const bool usable = send_message(session, batch[i], out[i]);
        done[i] = true;
        log_outcome(batch[i], out[i]);
        if (!usable) return;
    }
    session.quit();
}

}  // namespace

std::vector<MessageOutcome> deliver_batch(const DeliveryOptions& options, const std::string& domain,
                                          const std::vector<OutboundMessage>& batch) {
    std::vector<MessageOutcome> out(batch.size());
    std::vector<bool> done(batch.size(), false);
    auto finish_all = [&](const smtp::Reply& reply, const std::string& remote) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (done[i]) continue;
            fill_all(batch[i], out[i], reply, remote);
            log_outcome(batch[i], out[i]);
        }
        return out;
    };
    auto targets = options.relayhost ? relayhost_targets(options) : domain_targets(options, domain);
    if (!targets) return finish_all(targets.error(), "");
    auto tls = client_tls(options);
    if (!tls) return finish_all(tls.error(), "");
    SessionConfig config;
    config.helo_name = options.helo_name;
    config.tls = *tls ? (*tls)->native() : nullptr;
    config.tls_required = options.relayhost.has_value();
    if (options.relayhost) {
        config.user = options.relayhost->user;
        config.password = options.relayhost->password;
    }
    config.timeouts = session_timeouts(options);
    const std::uint16_t port = options.relayhost ? options.relayhost->port : options.port;

    HostFailure last{smtp::make_reply(451, "4.4.3", "No address to deliver to for " + domain), ""};
    for (const auto& target : *targets) {
        for (const auto& ip : target.ips) {
            if (std::find(done.begin(), done.end(), false) == done.end()) return out;
            auto session = ClientSession::open(config, target.name, ip, port);
            if (!session) {
                last = session.error();
                log::info("smtp-client-host-failed")
                    .kv("host", target.name)
                    .kv("ip", ip)
                    .kv("reply", smtp::reply_text(last.reply));
                continue;
            }
            run_session(**session, batch, out, done);
        }
    }
    return finish_all(last.reply, last.remote_host);
}

}  // namespace postern::queue
