"""`remember-key`: keep an encrypted database's key in this machine's key store."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "remember-key"
HELP = (
    "Keep the key of an encrypted database in this machine's key store (Windows Credential "
    "Manager; on Linux a file readable only by this user, which is weaker), so that the kiosk "
    "opens it unattended after a power cut. Run it as the kiosk's user; asks the site passphrase."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    print(f"{args.db}: key stored in {storage.remember_key(args.db)}")
    return 0
