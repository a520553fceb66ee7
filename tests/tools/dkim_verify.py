"""Verifies a message's DKIM signature with dkimpy, the public key given instead of DNS.

    dkim_verify.py MESSAGE_FILE PUBLIC_KEY_PEM

The key (SubjectPublicKeyInfo PEM, as `openssl rsa -pubout` writes it) is answered, as the
TXT record `v=DKIM1; k=rsa; p=...`, to whatever name the signature makes dkimpy ask for
(`SELECTOR._domainkey.DOMAIN.`). Prints "pass NAME" and exits 0, or "fail NAME" and exits 1.
"""

import logging
import sys

import dkim


def main():
    message = open(sys.argv[1], "rb").read()
    pem = open(sys.argv[2]).read()
    p = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    asked = []

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        asked.append(name)
        return ("v=DKIM1; k=rsa; p=" + p).encode()

    # Why a signature fails goes to stderr: dkimpy's own log.
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="dkimpy: %(message)s")
    try:
        ok = dkim.DKIM(message, logger=logging.getLogger("dkim")).verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print(f"dkimpy: {e}", file=sys.stderr)
        ok = False
    print(("pass" if ok else "fail") + " " + (asked[0] if asked else "-"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
