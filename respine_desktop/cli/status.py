"""`status`: counts of a study database (subjects, sessions, answers, audit entries)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "status"
HELP = "Show what a study database holds (read-only): subjects, sessions, answers, audit entries."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import storage

    with storage.open_database(args.db, readonly=True) as db:
        c = storage.counts(db)
        info = db.info
        encryption = storage.encryption_status(db)
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
    print(f"encryption      {encryption}")
    return 0
