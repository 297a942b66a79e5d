// smtpd: the inbound MX (RFC 5321, port 25). Accepts mail for local domains
// only and hands it to mda over LMTP; everything else is refused at RCPT.
// The session engine is shared with submissiond; this file picks the MX
// profile (smtp_profile.h). Usage: smtpd [-c FILE]
#include "smtpd/smtp_service.h"

int main(int argc, char** argv) {
    return postern::smtp::run_smtp_daemon(argc, argv, /*submission=*/false);
}
