// submissiond: message submission (RFC 6409 on port 587 with STARTTLS,
// RFC 8314 implicit TLS on port 465). AUTH is required before MAIL and
// only offered over TLS; the sender must belong to the logged-in user.
// The session engine is shared with smtpd; this file picks the submission
// profile (smtp_profile.h). Usage: submissiond [-c FILE]
#include "smtpd/smtp_service.h"

int main(int argc, char** argv) {
    return postern::smtp::run_smtp_daemon(argc, argv, /*submission=*/true);
}
