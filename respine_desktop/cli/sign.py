"""`sign`: an electronic signature (21 CFR Part 11) of a subject's visit or of a whole subject.

The signer signs in for this one command (``--user NAME``, the PIN from the terminal or with
``--pin-stdin``): both components are typed at each signing, and checked again by the signature
itself (`storage.sign`). Investigators and administrators sign; the meaning is one of
``reviewed``, ``approved``, ``responsibility``, each with its attestation text, printed with the
signature. What is signed is the SHA-256 of the canonical text of the data as they are now.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sign"
HELP = (
    "E-sign a subject's visit (--visit) or the whole subject: username and PIN typed again, a "
    "meaning (reviewed, approved, responsibility). Investigators and administrators."
)
MEANINGS = ("reviewed", "approved", "responsibility")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--subject", required=True, metavar="ID", help="e.g. RSP-01-023")
    parser.add_argument("--visit", metavar="CODE", help="one visit (e.g. M12); default: all")
    parser.add_argument(
        "--meaning",
        required=True,
        choices=MEANINGS,
        help="reviewed: I have reviewed these data; approved: I approve these data as accurate "
        "and complete; responsibility: I am responsible for these data",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    pin: str = getattr(args, "signature_pin", "")
    with storage.open_database(args.db) as db:
        sig = storage.sign(
            db,
            username=args.user,
            pin=pin,
            subject_code=args.subject,
            visit_code=args.visit,
            meaning=args.meaning,
        )
    en, fr = storage.SIGNATURE_MEANINGS[sig.meaning]
    print(f"signed       {sig.target}")
    print(f"by           {sig.username} ({sig.role})")
    print(f"at           {sig.signed_at} UTC")
    print(f"meaning      {sig.meaning}: {en} / {fr}")
    print(f"content      SHA-256 {sig.content_sha256}")
    return 0
