// Pipe mode: `mda -c FILE [-f SENDER] -- RCPT...` reads one message on stdin
// and delivers it to every RCPT, then exits with a sysexits.h code that an
// MTA (Postfix mailbox_command or a pipe(8) transport) acts on:
//   0 delivered to every recipient; 75 (EX_TEMPFAIL) if any recipient failed
//   temporarily (the MTA retries the whole message); otherwise the first
//   permanent failure's code: 67 unknown user, 73 over quota (permanent) or
//   too big, 65 mail loop, 69 refused; 64 usage, 78 config.
// One line per recipient goes to stderr ("<rcpt>: <status> <reply>"); MTAs
// copy it into their bounce or log.
// stdin is read up to smtp.max_message_bytes; a bigger message is refused
// (73) and nothing is written. A leading mbox "From " line is dropped.
#pragma once

namespace postern::mda {

int run_pipe_mode(int argc, char** argv);

}  // namespace postern::mda
