"""`signatures`: the electronic signatures of a study database, each with its state (read-only).

A signature is ``valid`` while the data it signed are unchanged, ``BROKEN`` once they changed
(a correction, a conflict choice that counts another session), until someone signs again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "signatures"
HELP = (
    "List the electronic signatures (read-only): who signed what, when, with which meaning, and "
    "whether each is still valid or BROKEN by a later change."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--subject", metavar="ID", help="one subject's signatures only")
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    with storage.open_database(args.db, readonly=True) as db:
        states = storage.signature_states(db, args.subject)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "signed_at": s.signature.signed_at,
                        "username": s.signature.username,
                        "role": s.signature.role,
                        "meaning": s.signature.meaning,
                        "statement": s.signature.statement,
                        "target_kind": s.signature.target_kind,
                        "target": s.signature.target,
                        "content_sha256": s.signature.content_sha256,
                        "state": s.state,
                    }
                    for s in states
                ],
                indent=2,
            )
        )
        return 0
    if not states:
        print("no signatures")
        return 0
    for s in states:
        sig = s.signature
        state = "valid" if s.state == "valid" else "BROKEN"
        print(f"{sig.signed_at}  {sig.username} ({sig.role})  {sig.meaning}  {sig.target}  {state}")
    return 0
