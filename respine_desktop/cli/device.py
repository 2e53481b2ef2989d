"""`device`: revoke an enrolled device; end (or reopen) the HMAC-bundle transition on a hub."""

from __future__ import annotations

import argparse
from pathlib import Path

from respine_desktop.cli import UsageError

NAME = "device"
HELP = (
    "Manage the devices a hub trusts: 'revoke' refuses from now on the bundles of an enrolled "
    "device (lost, stolen, replaced; audited with the reason); 'hmac-bundles refuse' ends the "
    "transition (site-key HMAC bundles of formats 1 and 2 are refused, only bundles encrypted "
    "and signed by an enrolled device are imported), 'hmac-bundles accept' reopens it."
)


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("revoke", help="refuse the bundles of an enrolled device from now on")
    p.add_argument("--db", required=True, type=Path, metavar="HUB", help="hub database")
    p.add_argument("device_id", metavar="DEVICE_ID", help="the device's id ('list devices')")
    p.add_argument("--reason", required=True, help="why (e.g. 'tablet lost on 2026-01-05')")
    p.set_defaults(handler=run_revoke)
    p = sub.add_parser("hmac-bundles", help="accept or refuse site-key HMAC bundles")
    p.add_argument("--db", required=True, type=Path, metavar="HUB", help="hub database")
    p.add_argument("choice", choices=("accept", "refuse"), help="the transition setting")
    p.set_defaults(handler=run_hmac)


def run_revoke(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    if not args.reason.strip():
        raise UsageError("--reason must say why the device is revoked")
    with storage.open_database(args.db) as db:
        storage.revoke_device(db, args.device_id, reason=args.reason)
    print(f"revoked device {args.device_id}: its bundles are refused from now on")
    return 0


def run_hmac(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    accepted = args.choice == "accept"
    with storage.open_database(args.db) as db:
        changed = storage.set_hmac_bundles(db, accepted=accepted)
    state = "accepted (transition)" if accepted else "refused"
    print(f"site-key HMAC bundles are {state}" + ("" if changed else " already"))
    return 0
