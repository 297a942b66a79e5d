"""imapd's extensions beyond the IMAP4rev1 core, driven with Python's imaplib:
IMAP4rev2 and ENABLE (RFC 9051, 5161), UTF8=ACCEPT (RFC 6855), ESEARCH
(RFC 4731), SEARCHRES (RFC 5182) and SEARCH CHARSET, LIST-EXTENDED / LIST-STATUS / STATUS=SIZE
(RFC 5258, 5819, 8438), MULTIAPPEND (RFC 3502), BINARY (RFC 3516) and the
IDLE timers (RFC 2177).

Commands imaplib has no method for go through _simple_command(); untagged
responses are then taken from imaplib's untagged_responses by name.
Every test runs a fresh instance with alice@example.test.
"""
import imaplib
import re
import ssl

import pytest

USER = "alice@example.test"
PASSWORD = "correct horse battery"
TIMEOUT_S = 15


def tls_context(inst):
    ctx = ssl.create_default_context(cafile=str(inst.cert))
    ctx.check_hostname = False
    return ctx


def logged_in(inst):
    c = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=tls_context(inst),
                          timeout=TIMEOUT_S)
    c.login(USER, PASSWORD)
    return c


def message(subject="Hello", body="Hello, world.\r\n", extra=""):
    return ("From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\n"
            "Subject: %s\r\nDate: Tue, 5 Mar 2024 10:00:00 +0000\r\n%s\r\n%s"
            % (subject, extra, body)).encode()


def append(c, mailbox="INBOX", msg=None, flags=None):
    typ, data = c.append(mailbox, flags, None, msg if msg is not None else message())
    assert typ == "OK", data
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))


# imaplib knows no ID command.
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))


def run(c, name, *args):
    """Sends one command; returns (typ, tagged text, {untagged name: [data]}).
    Keeps imaplib's idea of the state in step for SELECT/CLOSE/UNSELECT."""
    c.untagged_responses.clear()
    typ, data = c._simple_command(name, *args)
    untagged = dict(c.untagged_responses)
    c.untagged_responses.clear()
    if name in ("SELECT", "EXAMINE") and typ == "OK":
        c.state = "SELECTED"
    elif name in ("CLOSE", "UNSELECT"):
        c.state = "AUTH"
    return typ, data, untagged


def uid_run(c, name, *args):
    c.untagged_responses.clear()
    typ, data = c._simple_command("UID", name, *args)
    untagged = dict(c.untagged_responses)
    c.untagged_responses.clear()
    return typ, data, untagged


# --- IMAP4rev2, ENABLE, UTF8=ACCEPT ---------------------------------------

def test_capability_advertises_both_revisions(instance):
    c = logged_in(instance)
    caps = set(c.capabilities)
    assert {"IMAP4REV1", "IMAP4REV2", "ENABLE", "UTF8=ACCEPT", "ESEARCH", "LIST-EXTENDED",
            "LIST-STATUS", "STATUS=SIZE"} <= caps, caps
    # Exactly one of the literal extensions, as the limits say.
    assert ("LITERAL+" in caps) != ("LITERAL-" in caps)
    c.logout()


def test_enable_reports_only_what_it_turned_on(instance):
    c = logged_in(instance)
    typ, _, untagged = run(c, "ENABLE", "IMAP4rev2", "X-UNKNOWN")
    assert typ == "OK" and untagged["ENABLED"] == [b"IMAP4rev2"], untagged
    typ, _, untagged = run(c, "ENABLE", "IMAP4rev2", "UTF8=ACCEPT")
    assert untagged["ENABLED"] == [b"UTF8=ACCEPT"], untagged
    typ, _, untagged = run(c, "ENABLE", "UTF8=ACCEPT")
    assert untagged["ENABLED"] == [None] or untagged["ENABLED"] == [b""], untagged
    # ENABLE belongs to the authenticated state (RFC 5161 §3.1).
    c.select("INBOX")
    c.state = "AUTH"  # imaplib would refuse locally: make it ask the server
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        run(c, "ENABLE", "IMAP4rev2")
    c.logout()


def test_rev2_select_has_no_recent_and_search_answers_esearch(instance):
    c = logged_in(instance)
    append(c, msg=message("one"))
    append(c, msg=message("two"), flags=r"(\Seen)")
    typ, _, untagged = run(c, "SELECT", "INBOX")
    assert "RECENT" in untagged  # IMAP4rev1: "* 0 RECENT"
    run(c, "CLOSE")
    run(c, "ENABLE", "IMAP4rev2")
    typ, _, untagged = run(c, "SELECT", "INBOX")
    assert typ == "OK" and "RECENT" not in untagged, untagged
    assert untagged["EXISTS"] == [b"2"]
    typ, data, untagged = run(c, "SEARCH", "ALL")
    assert typ == "OK" and "SEARCH" not in untagged
    assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) ALL 1:2', untagged["ESEARCH"][0]), untagged
    typ, _, untagged = uid_run(c, "SEARCH", "UNSEEN")
    assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) UID ALL 1', untagged["ESEARCH"][0]), untagged
    # STATUS RECENT is gone in IMAP4rev2.
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        run(c, "STATUS", "INBOX", "(RECENT)")
    c.logout()


def test_utf8_accept_mailbox_names_travel_as_utf8(instance):
    c = logged_in(instance)
    assert c.create("&AMQ-rger")[0] == "OK"  # "Ärger", in modified UTF-7
    # imaplib's enable() also switches its own encoding to UTF-8.
    typ, data = c.enable("UTF8=ACCEPT")
    assert typ == "OK", data
    typ, _, untagged = run(c, "LIST", '""', '"*"')
    names = b"\n".join(untagged["LIST"])
    assert '"Ärger"'.encode() in names and b"&AMQ-" not in names, names
    typ, _, _ = run(c, "CREATE", '"Ärger/Überstunden"')
    assert typ == "OK"
    typ, _, untagged = run(c, "STATUS", '"Ärger/Überstunden"', "(MESSAGES)")
    assert untagged["STATUS"] == ['"Ärger/Überstunden" (MESSAGES 0)'.encode()], untagged
    typ, _, untagged = run(c, "SELECT", '"Ärger"')
    assert typ == "OK"
    # "&" is an ordinary character now, not the start of modified UTF-7.
    typ, _, _ = run(c, "CREATE", '"R&D"')
    assert typ == "OK"
    typ, _, untagged = run(c, "LIST", '""', '"R*"')
    assert untagged["LIST"] == [b'(\\HasNoChildren) "/" "R&D"'], untagged
    c.logout()
    # A rev1 client still sees modified UTF-7.
    c = logged_in(instance)
    names = b"\n".join(c.list()[1])
    assert b'"&AMQ-rger/&ANw-berstunden"' in names and b'"R&-D"' in names, names
    c.logout()


# --- ESEARCH and SEARCH CHARSET ---------------------------------------------

MIME = ("From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\n"
        "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?B?TcO8bmNoZW4=?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Der Kaffee ist hei=C3=9F und s=\r\nchwarz.\r\n"
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "w4RwZmVsIHVuZCBCaXJuZW4=\r\n--B--\r\n").encode()


def test_esearch_return_options(instance):
    c = logged_in(instance)
    for i in range(6):
        append(c, msg=message("m%d" % i), flags=r"(\Seen)" if i in (1, 2) else None)
    c.select("INBOX")
    cases = [
        (("RETURN", "(MIN MAX COUNT ALL)", "UNSEEN"), rb"MIN 1 MAX 6 COUNT 4 ALL 1,4:6"),
        (("RETURN", "()", "SEEN"), rb"ALL 2:3"),
        (("RETURN", "(COUNT)", "ALL"), rb"COUNT 6"),
        (("RETURN", "(MIN MAX COUNT ALL)", "DELETED"), rb"COUNT 0"),
        (("RETURN", "(MAX)", "CHARSET", "UTF-8", "SUBJECT", "m2"), rb"MAX 3"),
    ]
    for args, want in cases:
        typ, _, untagged = run(c, "SEARCH", *args)
        assert typ == "OK" and "SEARCH" not in untagged, (args, untagged)
        got = untagged["ESEARCH"][0]
        assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) ' + re.escape(want), got), (args, got)
    typ, _, untagged = uid_run(c, "SEARCH", "RETURN", "(MIN COUNT)", "4:*")
    assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) UID MIN 4 COUNT 3', untagged["ESEARCH"][0])
    # Without RETURN an IMAP4rev1 session still gets "* SEARCH".
    assert c.search(None, "SEEN") == ("OK", [b"2 3"])
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        run(c, "SEARCH", "RETURN", "(BOGUS)", "ALL")
    c.logout()


def test_search_charset_matches_decoded_text(instance):
    c = logged_in(instance)
    append(c, msg=MIME)
    append(c, msg=message("Plain", "nothing special\r\n"))
    c.select("INBOX")
    # imaplib sends str arguments as ASCII: non-ASCII goes as a literal.
    def search_utf8(*criteria):
        c.literal = criteria[-1].encode()
        return c.search("UTF-8", *criteria[:-1])
    cases = [
        (("FROM", "jürgen"), b"1"),
        (("SUBJECT", "GRÜSSE"), b""),          # no full case folding of ß
        (("SUBJECT", "grüße aus münchen"), b"1"),
        (("BODY", "heiß und schwarz"), b"1"),  # quoted-printable, soft break
        (("BODY", "ÄPFEL"), b"1"),             # base64
        (("TEXT", "jürgen"), b"1"),
        (("BODY", "jürgen"), b""),
    ]
    for criteria, want in cases:
        typ, data = search_utf8(*criteria)
        assert typ == "OK" and data == [want], (criteria, data)
    assert c.search("US-ASCII", "BODY", "special") == ("OK", [b"2"])
    assert c.search("us-ascii", "SUBJECT", "=?UTF-8?") == ("OK", [b""])
    typ, data = c.search("ISO-8859-1", "ALL")
    assert typ == "NO" and b"[BADCHARSET (UTF-8 US-ASCII)]" in data[0], data
    c.logout()


def search_utf8(c, *criteria):
    """SEARCH CHARSET UTF-8 with the last criterion sent as a literal."""
    c.literal = criteria[-1].encode()
    return c.search("UTF-8", *criteria[:-1])


def test_search_converts_body_charsets(instance):
    c = logged_in(instance)
    latin1 = message("latin1", "Voil=E0 le caf=E9 cr=E8me.\r\n",
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n")
    koi8 = (b"Subject: koi8\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=koi8-r\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Привет, мир!\r\n".encode("koi8-r"))
    cp1252 = (b"Subject: cp1252\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: text/plain; charset=windows-1252\r\n\r\n"
              + "Price: 5 € “quoted”\r\n".encode("cp1252"))
    unknown = (b"Subject: unknown\r\nContent-Type: text/plain; charset=x-martian\r\n\r\n"
               b"caf\xe9 raw\r\n")
    for m in (latin1, koi8, cp1252, unknown):
        append(c, msg=m)
    c.select("INBOX")
    cases = [
        (("BODY", "voilà"), b"1"),
        (("BODY", "CAFÉ CRÈME"), b"1"),  # converted, then case-folded
        (("TEXT", "привет"), b"2"),
        (("BODY", "МИР"), b"2"),
        (("BODY", "5 €"), b"3"),
        (("BODY", "“quoted”"), b"3"),
        (("BODY", "café"), b"1"),        # the unknown charset's 0xE9 is not é
        (("BODY", "raw"), b"4"),
    ]
    for criteria, want in cases:
        typ, data = search_utf8(c, *criteria)
        assert typ == "OK" and data == [want], (criteria, data, want)
    c.logout()


# --- SEARCHRES (RFC 5182) ----------------------------------------------------

def esearch(untagged):
    """The ESEARCH data after the (TAG ...) correlator, or None."""
    if "ESEARCH" not in untagged:
        return None
    return re.sub(rb'^\(TAG "[A-Z0-9]+"\) ?', b"", untagged["ESEARCH"][0])


def fetched_uids(untagged):
    """{seq: uid} from FETCH (UID n ...) responses."""
    out = {}
    for item in untagged.get("FETCH", []):
        text = item[0] if isinstance(item, tuple) else item
        m = re.match(rb"(\d+) \(.*UID (\d+)", text)
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


def saved_uids(c):
    """What "$" names now, as UIDs, through UID SEARCH $."""
    typ, _, untagged = uid_run(c, "SEARCH", "RETURN", "(ALL)", "$")
    assert typ == "OK", untagged
    return esearch(untagged)


def five_messages(c):
    for i in range(1, 6):
        append(c, msg=message("s%d" % i, "body %d\r\n" % i), flags=r"(\Seen)" if i % 2 else None)


def test_searchres_save_feeds_fetch_store_copy_move(instance):
    c = logged_in(instance)
    assert "SEARCHRES" in c.capabilities
    five_messages(c)
    c.create("Archive")
    c.select("INBOX")
    # SAVE alone answers no ESEARCH (RFC 5182 §2.1).
    typ, _, untagged = run(c, "SEARCH", "RETURN", "(SAVE)", "SEEN")
    assert typ == "OK" and "ESEARCH" not in untagged and "SEARCH" not in untagged, untagged
    typ, _, untagged = run(c, "FETCH", "$", "(UID)")
    assert typ == "OK" and fetched_uids(untagged) == {1: 1, 3: 3, 5: 5}, untagged
    typ, _, untagged = uid_run(c, "FETCH", "$", "(FLAGS)")
    assert typ == "OK" and sorted(fetched_uids(untagged).values()) == [1, 3, 5], untagged
    typ, _, untagged = run(c, "STORE", "$", "+FLAGS.SILENT", r"(\Flagged)")
    assert typ == "OK"
    assert c.search(None, "FLAGGED") == ("OK", [b"1 3 5"])
    # "$" with other criteria narrows the saved result.
    assert c.search(None, "$", "SUBJECT", "s3") == ("OK", [b"3"])
    assert c.search(None, "NOT", "$") == ("OK", [b"2 4"])
    assert c.uid("SEARCH", "UID", "$") == ("OK", [b"1 3 5"])
    typ, data, _ = run(c, "COPY", "$", "Archive")
    assert typ == "OK" and b"COPYUID" in data[0], data
    assert c.status("Archive", "(MESSAGES)")[1] == [b'"Archive" (MESSAGES 3)']
    # SAVE with MIN keeps only the minimum; the answer still has MIN.
    typ, _, untagged = run(c, "SEARCH", "RETURN", "(SAVE MIN)", "UNSEEN")
    assert esearch(untagged) == b"MIN 2", untagged
    assert saved_uids(c) == b"UID ALL 2"
    typ, _, untagged = uid_run(c, "SEARCH", "RETURN", "(SAVE MIN MAX)", "ALL")
    assert esearch(untagged) == b"UID MIN 1 MAX 5", untagged
    assert saved_uids(c) == b"UID ALL 1,5"
    typ, _, untagged = run(c, "MOVE", "$", "Archive")
    assert typ == "OK" and untagged.get("EXPUNGE") == [b"5", b"1"], untagged
    assert c.status("Archive", "(MESSAGES)")[1] == [b'"Archive" (MESSAGES 5)']
    # The moved messages have left "$" with the mailbox.
    assert saved_uids(c) == b"UID"
    typ, _, untagged = run(c, "FETCH", "$", "(UID)")
    assert typ == "OK" and "FETCH" not in untagged, untagged
    # UID EXPUNGE $ removes only the saved \Deleted messages.
    run(c, "STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
    run(c, "SEARCH", "RETURN", "(SAVE)", "SUBJECT", "s2")
    typ, _, untagged = uid_run(c, "EXPUNGE", "$")
    assert typ == "OK" and untagged.get("EXPUNGE") == [b"1"], untagged
    assert c.search(None, "ALL") == ("OK", [b"1 2"])
    c.logout()


def test_searchres_follows_expunges_from_another_session(instance):
    a = logged_in(instance)
    five_messages(a)
    a.select("INBOX")
    run(a, "SEARCH", "RETURN", "(SAVE)", "2:4")
    b = logged_in(instance)
    b.select("INBOX")
    b.store("3", "+FLAGS", r"(\Deleted)")
    b.expunge()
    b.logout()
    typ, _, untagged = run(a, "NOOP")
    assert untagged.get("EXPUNGE") == [b"3"], untagged
    typ, _, untagged = run(a, "FETCH", "$", "(UID)")
    assert typ == "OK" and fetched_uids(untagged) == {2: 2, 3: 4}, untagged
    assert a.search(None, "$") == ("OK", [b"2 3"])
    a.logout()


def test_searchres_is_reset_by_select_and_failed_searches(instance):
    c = logged_in(instance)
    five_messages(c)
    c.create("Other")
    c.select("INBOX")
    # Never saved: "$" is empty, and using it is no error.
    typ, _, untagged = run(c, "FETCH", "$", "(UID)")
    assert typ == "OK" and "FETCH" not in untagged, untagged
    for leave in (("SELECT", "INBOX"), ("EXAMINE", "INBOX"), ("UNSELECT",), ("CLOSE",)):
        run(c, "SEARCH", "RETURN", "(SAVE)", "ALL")
        assert saved_uids(c) == b"UID ALL 1:5"
        run(c, *leave)
        if leave[0] in ("UNSELECT", "CLOSE"):
            run(c, "SELECT", "INBOX")
        assert saved_uids(c) == b"UID", leave
    # A failed SELECT of another mailbox leaves none selected; the next
    # SELECT starts empty too.
    run(c, "SEARCH", "RETURN", "(SAVE)", "ALL")
    typ, _, _ = run(c, "SELECT", "Nonexistent")
    assert typ == "NO"
    run(c, "SELECT", "INBOX")
    assert saved_uids(c) == b"UID"
    # A SAVE search answered NO empties "$" (RFC 5182 §2.1) ...
    run(c, "SEARCH", "RETURN", "(SAVE)", "ALL")
    typ, data, _ = run(c, "SEARCH", "RETURN", "(SAVE)", "CHARSET", "ISO-8859-1", "ALL")
    assert typ == "NO", data
    assert saved_uids(c) == b"UID"
    # ... while one answered BAD, or one without SAVE, leaves it alone.
    run(c, "SEARCH", "RETURN", "(SAVE)", "2:3")
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        run(c, "SEARCH", "RETURN", "(SAVE)", "BOGUS")
    assert saved_uids(c) == b"UID ALL 2:3"
    run(c, "SEARCH", "CHARSET", "ISO-8859-1", "ALL")
    run(c, "SEARCH", "ALL")
    assert saved_uids(c) == b"UID ALL 2:3"
    # "$" is not part of a larger set.
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        run(c, "FETCH", "$,1", "(UID)")
    c.logout()


def test_searchres_pipelined_use_sees_the_saved_result(instance):
    c = logged_in(instance)
    five_messages(c)
    c.select("INBOX")
    lines = raw_command(c, b"p3", b"p1 SEARCH RETURN (SAVE) UNSEEN\r\n"
                                  b"p2 FETCH $ (UID)\r\n"
                                  b"p3 UID SEARCH $\r\n")
    text = b"\n".join(lines)
    assert b"p1 OK" in text and b"p2 OK" in text and b"p3 OK" in text, text
    assert re.findall(rb"\* (\d+) FETCH \(UID (\d+)\)", text) == [(b"2", b"2"), (b"4", b"4")], text
    assert b"* SEARCH 2 4" in text, text
    c.logout()


# --- IMAP4rev2 behaviour -------------------------------------------------------

def test_rev2_select_sends_list_with_oldname(instance):
    c = logged_in(instance)
    c.create("Work")
    c.create("Work/2024")
    run(c, "ENABLE", "IMAP4rev2")
    typ, _, untagged = run(c, "SELECT", "INBOX")
    assert typ == "OK" and untagged["LIST"] == [b'(\\HasNoChildren) "/" INBOX'], untagged
    # RFC 9051 §6.3.2: a name not in canonical form gets OLDNAME.
    typ, _, untagged = run(c, "EXAMINE", "inbox")
    assert typ == "OK"
    assert untagged["LIST"] == [b'(\\HasNoChildren) "/" INBOX ("OLDNAME" ("inbox"))'], untagged
    typ, _, untagged = run(c, "SELECT", "Work")
    assert untagged["LIST"] == [b'(\\HasChildren) "/" "Work"'], untagged
    c.logout()
    # IMAP4rev1 SELECT sends no LIST.
    c = logged_in(instance)
    typ, _, untagged = run(c, "SELECT", "inbox")
    assert typ == "OK" and "LIST" not in untagged, untagged
    c.logout()


def test_rev2_has_no_recent_new_old_search_keys(instance):
    c = logged_in(instance)
    append(c, msg=message("one"))
    c.select("INBOX")
    # IMAP4rev1: accepted; no message is \Recent here.
    assert c.search(None, "RECENT") == ("OK", [b""])
    assert c.search(None, "NEW") == ("OK", [b""])
    assert c.search(None, "OLD") == ("OK", [b"1"])
    c.close()
    run(c, "ENABLE", "IMAP4rev2")
    run(c, "SELECT", "INBOX")
    for key in ("RECENT", "NEW", "OLD"):
        with pytest.raises(imaplib.IMAP4.error, match="BAD"):
            run(c, "SEARCH", key)
    typ, _, untagged = run(c, "SEARCH", "UNSEEN")
    assert typ == "OK" and esearch(untagged) == b"ALL 1", untagged
    # SEARCHRES works the same after ENABLE IMAP4rev2 (required by RFC 9051).
    typ, _, untagged = run(c, "SEARCH", "RETURN", "(SAVE)", "ALL")
    assert typ == "OK" and "ESEARCH" not in untagged, untagged
    typ, _, untagged = run(c, "FETCH", "$", "(UID)")
    assert fetched_uids(untagged) == {1: 1}, untagged
    c.logout()


# --- LIST-EXTENDED, LIST-STATUS, STATUS=SIZE ------------------------------

def setup_tree(c):
    for name in ("Work/2024", "Work/2024/Q1", "Lists"):
        assert c.create(name)[0] == "OK"
    assert c.unsubscribe("Work/2024")[0] == "OK"
    assert c.unsubscribe("Lists")[0] == "OK"
    # If CREATE made the parent "Work", unsubscribe it too: the tests only
    # want Work/2024/Q1 subscribed under Work.
    c.unsubscribe("Work")


def listing(untagged):
    return [x for x in untagged.get("LIST", []) if x]


def test_list_extended_selection_and_return_options(instance):
    c = logged_in(instance)
    setup_tree(c)
    typ, _, u = run(c, "LIST", "(SUBSCRIBED)", '""', '"*"')
    text = b"\n".join(listing(u))
    assert b'\\Subscribed) "/" "Work/2024/Q1"' in text, text
    assert b'"Work/2024"' not in text and b'"Lists"' not in text, text
    assert b"INBOX" in text
    typ, _, u = run(c, "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"')
    text = b"\n".join(listing(u))
    assert re.search(rb'\(.*\) "/" "Work" \("CHILDINFO" \("SUBSCRIBED"\)\)', text), text
    assert b'"Lists"' not in text
    typ, _, u = run(c, "LIST", "(SPECIAL-USE)", '""', '"*"')
    text = b"\n".join(listing(u))
    assert b"\\Sent" in text and b"\\Trash" in text and b"INBOX" not in text, text
    typ, _, u = run(c, "LIST", '""', "(INBOX Lists)", "RETURN", "(SUBSCRIBED CHILDREN SPECIAL-USE)")
    text = b"\n".join(listing(u))
    assert re.search(rb'\(\\HasNoChildren \\Subscribed\) "/" INBOX', text), text
    assert b'(\\HasNoChildren) "/" "Lists"' in text, text
    # RECURSIVEMATCH alone and unknown options are BAD (RFC 5258 §3).
    for args in (("(RECURSIVEMATCH)", '""', "*"), ("(BOGUS)", '""', "*"),
                 ('""', "*", "RETURN", "(BOGUS)")):
        with pytest.raises(imaplib.IMAP4.error, match="BAD"):
            run(c, "LIST", *args)
    c.logout()


def test_list_status_and_status_size(instance):
    c = logged_in(instance)
    append(c, msg=message("a"), flags=r"(\Seen)")
    append(c, msg=message("b"))
    assert c.create("Work/Sub")[0] == "OK"
    typ, _, u = run(c, "LIST", '""', '"*"', "RETURN",
                    "(STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE))")
    assert typ == "OK"
    statuses = {re.match(rb'"?([^" ]+)"? ', s).group(1): s for s in u["STATUS"]}
    inbox = statuses[b"INBOX"]
    m = re.search(rb"\(MESSAGES 2 UNSEEN 1 UIDNEXT 3 UIDVALIDITY \d+ SIZE (\d+)\)", inbox)
    assert m and int(m.group(1)) == len(message("a")) + len(message("b")), inbox
    assert re.search(rb"MESSAGES 0 UNSEEN 0 UIDNEXT 1 UIDVALIDITY \d+ SIZE 0", statuses[b"Work/Sub"])
    # Every STATUS belongs to a listed, existing mailbox; none for \NonExistent.
    listed = b"\n".join(listing(u))
    for name in statuses:
        assert name in listed
    if b"\\NonExistent" in listed:
        assert b"Work" not in statuses
    typ, data = c.status("INBOX", "(SIZE MESSAGES)")
    assert typ == "OK" and re.search(rb"\(SIZE %d MESSAGES 2\)" % int(m.group(1)), data[0]), data
    c.logout()


# --- NAMESPACE, UNSELECT, ID, MULTIAPPEND ---------------------------------

def raw_command(c, tag, data):
    """Sends raw bytes through imaplib's socket; returns the lines up to `tag`."""
    c.send(data)
    lines = []
    while True:
        line = c.readline().rstrip(b"\r\n")
        lines.append(line)
        if line.startswith(tag + b" ") or not line:
            return lines


def test_namespace_unselect_id(instance):
    c = logged_in(instance)
    assert c.namespace() == ("OK", [b'(("" "/")) NIL NIL'])
    typ, _, untagged = run(c, "ID", '("name" "pytest")')
    assert typ == "OK" and b'"name" "Postern"' in untagged["ID"][0], untagged
    append(c)
    c.select("INBOX")
    c.store("1", "+FLAGS", r"\Deleted")
    assert c.unselect()[0] == "OK"
    # UNSELECT leaves without expunging (RFC 3691), unlike CLOSE.
    c.select("INBOX")
    assert c.search(None, "DELETED") == ("OK", [b"1"])
    c.logout()


def test_multiappend_stores_all_in_one_command(instance):
    c = logged_in(instance)
    c.select("INBOX")
    one, two = message("first"), message("second")
    data = (b"m1 APPEND INBOX (\\Seen) {%d+}\r\n%s {%d+}\r\n%s\r\n"
            % (len(one), one, len(two), two))
    lines = raw_command(c, b"m1", data)
    assert re.match(rb"m1 OK \[APPENDUID \d+ 1:2\]", lines[-1]), lines
    assert b"* 2 EXISTS" in lines, lines
    assert c.search(None, "SEEN") == ("OK", [b"1"])
    assert c.search(None, "SUBJECT", "second") == ("OK", [b"2"])
    c.logout()


def test_multiappend_is_all_or_nothing(instance):
    instance.ctl("quota", "set", USER, "--messages", "3")
    c = logged_in(instance)
    append(c)
    parts = b""
    for i in range(3):
        m = message("batch %d" % i)
        parts += b" {%d+}\r\n%s" % (len(m), m)
    lines = raw_command(c, b"m2", b"m2 APPEND INBOX" + parts + b"\r\n")
    assert lines[-1].startswith(b"m2 NO [OVERQUOTA]"), lines
    # The two messages that fitted were taken back.
    typ, data = c.select("INBOX")
    assert data == [b"1"], data
    assert c.search(None, "SUBJECT", "batch") == ("OK", [b""])
    c.logout()


# --- BINARY ----------------------------------------------------------------

BINARY_MSG = (b"From: bob@example.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
              b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
              b"caf=C3=A9 au lait\r\n"
              b"--B\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n"
              b"AAECAwT/\r\n"
              b"--B\r\nContent-Type: application/x-thing\r\n"
              b"Content-Transfer-Encoding: x-uuencode\r\n\r\n"
              b"begin 644 thing\r\n"
              b"--B--\r\n")


def test_binary_fetch_decodes_parts(instance):
    c = logged_in(instance)
    append(c, msg=BINARY_MSG)
    c.select("INBOX")
    typ, data = c.fetch("1", "(BINARY.PEEK[1] BINARY.SIZE[1])")
    assert typ == "OK" and data[0][1] == "café au lait".encode(), data
    assert b"BINARY.SIZE[1] 13" in data[1], data
    typ, data = c.fetch("1", "(BINARY.SIZE[2])")
    assert b"BINARY.SIZE[2] 6" in data[0], data
    # A NUL in the content: literal8. imaplib cannot parse "~{n}", so read raw.
    lines = raw_command(c, b"b1", b"b1 FETCH 1 BINARY.PEEK[2]<0.3>\r\n")
    joined = b"\r\n".join(lines)
    assert b"BINARY[2]<0> ~{3}\r\n\x00\x01\x02)" in joined, joined
    assert lines[-1].startswith(b"b1 OK"), lines
    # An encoding we cannot decode fails the command (RFC 3516 §4.3).
    lines = raw_command(c, b"b2", b"b2 FETCH 1 BINARY.PEEK[3]\r\n")
    assert lines[-1].startswith(b"b2 NO [UNKNOWN-CTE]"), lines
    # BINARY without PEEK sets \Seen, as BODY[] does.
    typ, data = c.fetch("1", "(BINARY[1])")
    assert typ == "OK"
    assert c.search(None, "SEEN") == ("OK", [b"1"])
    c.logout()


def test_append_accepts_literal8(instance):
    c = logged_in(instance)
    msg = b"Subject: nul\r\nContent-Transfer-Encoding: binary\r\n\r\na\x00b\r\n"
    c.send(b"a8 APPEND INBOX ~{%d}\r\n" % len(msg))
    assert c.readline().startswith(b"+")
    lines = raw_command(c, b"a8", msg + b"\r\n")
    assert lines[-1].startswith(b"a8 OK [APPENDUID"), lines
    c.logout()


# --- IDLE and the timers --------------------------------------------------

def test_idle_outlasts_idle_timeout_then_silence_is_cut(stopped_instance):
    from harness import set_config_value
    inst = stopped_instance
    set_config_value(inst, "imap.idle_timeout_seconds", 1)
    inst.add_user(USER)
    inst.start()
    c = logged_in(inst)
    c.select("INBOX")
    c.send(b"i1 IDLE\r\n")
    assert c.readline().startswith(b"+ ")
    # Three times idle_timeout in IDLE: still there (RFC 2177: 29 minutes).
    import time
    time.sleep(3)
    lines = raw_command(c, b"i1", b"DONE\r\n")
    assert lines[-1].startswith(b"i1 OK"), lines
    # Outside IDLE, one second of silence ends the session.
    line = c.readline()
    assert line.startswith(b"* BYE"), line
