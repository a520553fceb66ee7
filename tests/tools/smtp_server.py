"""A real SMTP server for Halle's mail tests and benchmark (aiosmtpd, on loopback).

    smtp_server.py PORT MAILDIR

Accepts every message and writes it whole, as received, to MAILDIR/<n>.eml (written to a
temporary name first, then renamed: a reader never sees half a message). Answers on demand,
by the recipient's address:
    defer4...@  -> 451 (try again later)
    reject5...@ -> 550 (refused for good)
Prints "ready" on stdout once it listens. Stops on SIGTERM.
"""

import asyncio
import itertools
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, maildir):
        self.maildir = maildir
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
        name = f"{os.getpid()}-{n:08d}.eml"
        tmp = os.path.join(self.maildir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.maildir, name))
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    maildir = sys.argv[2]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Handler(maildir), hostname="127.0.0.1", port=port,
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
