"""A real SMTP server for Halle's mail tests and benchmark (aiosmtpd, on loopback).

    smtp_server.py PORT MAILDIR [options]

Accepts every message and writes it whole, as received, to MAILDIR/<n>.eml (written to a
temporary name first, then renamed: a reader never sees half a message). Answers on demand,
by the recipient's address:
    defer4...@  -> 451 (try again later)
    reject5...@ -> 550 (refused for good)
Prints "ready" on stdout once it listens. Stops on SIGTERM (and with its parent, for workers).

Options (none given: one plain process, as the tests have always used it):
    --cert FILE --key FILE   the certificate (PEM) TLS uses, with either of:
    --starttls               offer STARTTLS, and refuse mail before it (RFC 3207, port 587)
    --implicit-tls           TLS from the first byte (RFC 8314, port 465)
    --sessions               beside each message, MAILDIR/<n>.session.json says how the session
                             went: {"tls": true, "tls_version": "TLSv1.3", "cipher": ...}
                             (on whenever a TLS option is given)
    --workers N              N processes listening on the one port (SO_REUSEPORT: the kernel
                             spreads connections over them), for the bulk-mail benchmark: one
                             Python process is a bottleneck of its own on a loaded machine.
"""

import asyncio
import ctypes
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, maildir, sessions):
        self.maildir = maildir
        self.sessions = sessions
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("defer4"):
            return "451 4.3.0 try again later"
        if local.startswith("reject5"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        name = f"{os.getpid()}-{n:08d}"
        if self.sessions:
            # After STARTTLS, the transport is the TLS one; with implicit TLS it always was.
            tls = server.transport.get_extra_info("ssl_object")
            record = {
                "tls": tls is not None,
                "tls_version": tls.version() if tls else None,
                "cipher": tls.cipher()[0] if tls else None,
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
            }
            self.write(name + ".session.json", json.dumps(record).encode())
        self.write(name + ".eml", envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def write(self, name, data):
        tmp = os.path.join(self.maildir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.maildir, name))


def parse(argv):
    opts = {"port": int(argv[1]), "maildir": argv[2], "cert": None, "key": None,
            "starttls": False, "implicit_tls": False, "sessions": False, "workers": 1}
    rest = iter(argv[3:])
    for arg in rest:
        if arg in ("--cert", "--key"):
            opts[arg[2:]] = next(rest)
        elif arg == "--workers":
            opts["workers"] = max(1, int(next(rest)))
        elif arg in ("--starttls", "--implicit-tls", "--sessions"):
            opts[arg[2:].replace("-", "_")] = True
        else:
            sys.exit(f"smtp_server.py: unknown option {arg}")
    if (opts["starttls"] or opts["implicit_tls"]) and not (opts["cert"] and opts["key"]):
        sys.exit("smtp_server.py: TLS needs --cert and --key")
    opts["sessions"] = opts["sessions"] or opts["starttls"] or opts["implicit_tls"]
    return opts


def serve(opts, ready):
    """Listens on the port, calls ready() once it does, and serves until SIGTERM."""
    context = None
    if opts["cert"]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(opts["cert"], opts["key"])
    handler = Handler(opts["maildir"], opts["sessions"])
    smtp_kwargs = {"data_size_limit": 10 * 1024 * 1024, "hostname": "halle-test-smtp"}
    if opts["starttls"]:
        smtp_kwargs.update(tls_context=context, require_starttls=True)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, loop=loop, **smtp_kwargs),
        host="127.0.0.1", port=opts["port"],
        ssl=context if opts["implicit_tls"] else None,
        reuse_port=opts["workers"] > 1,
    ))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    ready()
    loop.run_until_complete(stop.wait())
    server.close()


def main():
    opts = parse(sys.argv)
    os.makedirs(opts["maildir"], exist_ok=True)
    children = []
    signals = []
    for _ in range(opts["workers"] - 1):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            # A worker goes when the first process goes, even killed with SIGKILL.
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            serve(opts, lambda: (os.write(w, b"."), os.close(w)))
            os._exit(0)
        os.close(w)
        children.append(pid)
        signals.append(r)
    for r in signals:
        os.read(r, 1)
        os.close(r)
    try:
        serve(opts, lambda: print("ready", flush=True))
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
