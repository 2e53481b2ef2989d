"""`status`: counts of a study database (subjects, sessions, answers, audit entries) and the head
of each audit chain (device, seq, hash) with their combined hash, the anchors `verify --expect`
checks later; `--receipt FILE` writes them as a small JSON receipt."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from respine_desktop import clock

NAME = "status"
HELP = (
    "Show what a study database holds (read-only): subjects, sessions, answers, audit entries, "
    "and each audit chain's head (keep them: `verify --expect` proves the file still holds them)."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--receipt",
        type=Path,
        metavar="FILE",
        help="also write a dated receipt of every chain head (JSON) for `verify --expect FILE`",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    with storage.open_database(args.db, readonly=True) as db:
        c = storage.counts(db)
        info = db.info
        head = storage.audit_chain_head(db)
        receipt = storage.chain_heads_receipt(db, clock.now_iso())
        own, hub = storage.own_device_key(db), storage.hub_key(db)
        enrolled = storage.enrolled_devices(db)
        encryption = storage.encryption_status(db)
    if args.receipt is not None:
        _write_receipt(args.receipt, receipt)
    data = {
        "path": str(args.db),
        "study_id": info.study_id,
        "site_code": info.site_code,
        "device_id": info.device_id,
        "schema": list(info.migrations),
        "subjects": c.subjects,
        "visits": c.visits,
        "sessions": {
            "completed": c.sessions.completed,
            "in_progress": c.sessions.in_progress,
            "parked": c.sessions.parked,
        },
        "answers": c.answers,
        "current_answers": c.current_answers,
        "scores": c.scores,
        "audit_entries": c.audit_entries,
        "staff": c.staff,
        "sites": c.sites,
        "devices": c.devices,
        "chain_head": head.hash,
        "chains": [{"device": d, "seq": q, "hash": h} for d, q, h in head.chains],
        "device_key": own.fingerprint if own else None,
        "hub_key": hub.fingerprint if hub else None,
        "enrolled_devices": sum(1 for k in enrolled if k.revoked_at is None),
        "encryption": encryption,
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"{args.db}: study {info.study_id}, site {info.site_code}, device {info.device_id}")
    print(f"subjects        {c.subjects}")
    print(
        f"sessions        {c.sessions.completed} completed, {c.sessions.in_progress} in progress, "
        f"{c.sessions.parked} parked"
    )
    print(f"answers         {c.answers} rows ({c.current_answers} current)")
    print(f"scores          {c.scores} current")
    print(f"audit entries   {c.audit_entries}")
    print(f"staff accounts  {c.staff}")
    print(f"device key      {own.fingerprint if own else '(not made yet: export device)'}")
    if hub:
        print(f"hub key         {hub.fingerprint} (hub {hub.device_id})")
    if enrolled:
        print(f"enrolled        {data['enrolled_devices']} devices ('list devices')")
    print(f"chain head      {head.hash} (short {head.short}, {len(head.chains)} chain(s))")
    for device, seq, digest in head.chains:
        print(f"  {device}:{seq}:{digest}")
    print(f"encryption      {encryption}")
    return 0


def _write_receipt(path: Path, receipt: dict[str, object]) -> None:
    """The receipt as JSON, written atomically (`files.write_json`)."""
    from respine_desktop import files

    files.write_json(path, receipt, "receipt")
