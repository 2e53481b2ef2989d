"""`list devices`: the devices enrolled on a hub, and the keys of this database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "list"
HELP = (
    "List what a study database trusts (read-only): 'devices' shows this device's key "
    "fingerprint, the hub its bundles are encrypted to, and every enrolled device (revoked "
    "ones marked)."
)


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = sub.add_parser("devices", help="this device's key, its hub's, the enrolled devices")
    p.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_devices)


def run_devices(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    with storage.open_database(args.db, readonly=True) as db:
        own = storage.own_device_key(db)
        hub = storage.hub_key(db)
        enrolled = storage.enrolled_devices(db)
        hmac = storage.hmac_bundles_accepted(db)
    if args.json:
        print(
            json.dumps(
                {
                    "device_id": db.device_id,
                    "fingerprint": own.fingerprint if own else None,
                    "hub": {"device_id": hub.device_id, "fingerprint": hub.fingerprint}
                    if hub
                    else None,
                    "hmac_bundles": "accepted" if hmac else "refused",
                    "enrolled": [
                        {
                            "device_id": k.device_id,
                            "label": k.label,
                            "site_code": k.site_code,
                            "fingerprint": k.fingerprint,
                            "enrolled_at": k.added_at,
                            "revoked_at": k.revoked_at,
                        }
                        for k in enrolled
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(f"this device  {db.device_id}  {own.fingerprint if own else '(no key yet)'}")
    print(f"hub          {f'{hub.device_id}  {hub.fingerprint}' if hub else '(none installed)'}")
    print(f"HMAC bundles {'accepted (transition)' if hmac else 'refused'}")
    for k in enrolled:
        revoked = f"  REVOKED {k.revoked_at}" if k.revoked_at else ""
        where = f"site {k.site_code}  {k.label}"
        print(f"enrolled     {k.device_id}  {k.fingerprint}  {where}{revoked}")
    if not enrolled:
        print("enrolled     (none)")
    return 0
