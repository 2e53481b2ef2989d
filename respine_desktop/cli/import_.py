"""`import`: merge a kiosk's signed site bundle into this database, or install the site key."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respine_desktop.cli import work_done
from respine_desktop.cli.export import ProgressLine, user_errors

if TYPE_CHECKING:
    from respine_desktop.exports import ImportSummary
    from respine_desktop.storage import ChainHead

RECEIPT_FORMAT = "respine-import-receipt/1"

NAME = "import"
HELP = (
    "Import into a study database: 'bundle' verifies a kiosk's signed bundle (study, site key "
    "signature, every hash, audit chains) and merges it by UUID; importing it again changes "
    "nothing; two versions of the same subject x visit x instrument are both kept and flagged "
    "for review. A tampered, truncated or foreign bundle is refused (exit 2) and nothing is "
    "written. 'key' installs the site key file written by 'export key'. 'device' enrols a "
    "kiosk's device file on the hub, 'hub-key' installs the hub's on a kiosk; both print the "
    "fingerprint to compare by eye with the other device's. 'translation' installs a site's "
    "licensed translation after checking it against the shipped masters."
)


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    p = sub.add_parser("bundle", help="verify and merge a site bundle")
    p.add_argument("--db", required=True, type=Path, metavar="HUB", help="database to merge into")
    p.add_argument("file", type=Path, metavar="FILE", help="bundle file ('export bundle')")
    p.add_argument(
        "--key",
        type=Path,
        metavar="KEYFILE",
        help="site key file to check the signature with (default: the database's key)",
    )
    p.add_argument(
        "--receipt",
        type=Path,
        metavar="OUT.json",
        help="also write a JSON receipt of the import (bundle SHA-256, device, rows new / "
        "updated / conflicting / unchanged per table, mismatches, hub chain head before and "
        "after), atomically",
    )
    p.set_defaults(handler=run_bundle)
    p = sub.add_parser("key", help="install the site key file")
    p.add_argument("--db", required=True, type=Path, metavar="PATH", help="database file")
    p.add_argument("file", type=Path, metavar="KEYFILE", help="key file ('export key')")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace a different key already installed (its bundles are then refused)",
    )
    p.set_defaults(handler=run_key)
    p = sub.add_parser("device", help="enrol a kiosk's device file on this hub")
    p.add_argument("--db", required=True, type=Path, metavar="HUB", help="hub database")
    p.add_argument("file", type=Path, metavar="FILE", help="device file ('export device')")
    p.set_defaults(handler=run_device)
    p = sub.add_parser("hub-key", help="install the hub's key file on this kiosk")
    p.add_argument("--db", required=True, type=Path, metavar="PATH", help="kiosk database")
    p.add_argument("file", type=Path, metavar="FILE", help="hub key file ('export hub-key')")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace another hub's key already installed (bundles then go to the new hub)",
    )
    p.set_defaults(handler=run_hub_key)
    from respine_desktop.cli import _import_translation

    _import_translation.register(sub)


def run_bundle(args: argparse.Namespace) -> int:
    from respine_desktop import clock, exports, files, storage

    if args.receipt is not None:  # refused before the import: nothing written
        files.check_writable(args.receipt, "receipt")
    with user_errors():
        key = exports.read_key_file(args.key).key if args.key is not None else None
        with storage.open_database(args.db) as db:
            before = storage.audit_chain_head(db)
            summary = exports.import_bundle(
                db,
                args.file,
                key=key,
                progress=ProgressLine("import bundle"),
                committed=work_done,  # merged: a Ctrl-C from its commit on changes nothing
            )
            work_done()  # (a bundle with nothing new commits nothing)
            after = storage.audit_chain_head(db)
            hub_device = db.device_id
    if args.receipt is not None:
        receipt = import_receipt(summary, hub_device, before, after, clock.now_iso())
        files.write_json(args.receipt, receipt, "receipt")
    print(summary.describe())
    for line in table_lines(summary.result.summary()):
        print(line)
    for text in summary.result.mismatches:
        print(f"mismatch: {text}: review needed")
    for c in summary.result.conflicts:
        print(
            f"conflict: {c.subject_code} {c.visit_code} {c.instrument_id} answered in "
            f"{len(c.session_ids)} sessions ({', '.join(c.session_ids)}): review needed"
        )
    return 0


def _head(head: ChainHead) -> dict[str, Any]:
    return {
        "hash": head.hash,
        "chains": [{"device": d, "seq": q, "hash": h} for d, q, h in head.chains],
    }


def import_receipt(
    summary: ImportSummary,
    hub_device: str,
    before: ChainHead,
    after: ChainHead,
    made_at: str,
) -> dict[str, Any]:
    """What `import bundle --receipt` writes (JSON-ready): the bundle (file, SHA-256, id,
    device, site), per table the rows new / updated / conflicting / unchanged, the mismatches
    and conflicts flagged, and the hub's chain head before and after the import."""
    info, result = summary.bundle, summary.result
    return {
        "format": RECEIPT_FORMAT,
        "made_at": made_at,
        "hub_device": hub_device,
        "bundle": {
            "file": info.path.name,
            "sha256": info.sha256,
            "bundle_id": info.bundle_id,
            "device": info.device_id,
            "site_code": info.site_code,
            "created_at": info.created_at,
            "since": info.since,
            "format_version": info.format_version,
            "signed_by": info.key_id,
        },
        "changed": result.changed,
        "tables": result.summary(),
        "mismatches": list(result.mismatches),
        "day0_mismatches": list(result.day0_mismatches),
        "conflicts": [
            {
                "subject": c.subject_code,
                "visit": c.visit_code,
                "instrument": c.instrument_id,
                "sessions": list(c.session_ids),
            }
            for c in result.conflicts
        ],
        "audit_entry": result.audit_entry,
        "hub_head_before": _head(before),
        "hub_head_after": _head(after),
    }


def table_lines(counts: dict[str, dict[str, int]]) -> list[str]:
    """The per-table summary of an import: new, updated, conflicting, unchanged rows (a refused
    row refuses the whole bundle, so an import that ends here refused none)."""
    heads = ("new", "updated", "conflicting", "unchanged")
    lines = [f"  {'table':<16}" + "".join(f"{h:>12}" for h in heads)]
    for table, c in counts.items():
        lines.append(f"  {table:<16}" + "".join(f"{c[h]:>12}" for h in heads))
    return lines


def run_key(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(), storage.open_database(args.db) as db:
        found = exports.read_key_file(args.file)
        changed = exports.install_key_file(db, args.file, replace=args.replace)
    if not changed:
        print(f"site key {found.key_id} is installed already")
        return 0
    print(f"installed site key {found.key_id} into {args.db}")
    return 0


def run_device(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(), storage.open_database(args.db) as db:
        found, changed = exports.enrol_device_file(db, args.file)
    key = found.key
    state = "enrolled" if changed else "is enrolled already:"
    print(
        f"{state} device {key.device_id} ({key.label}, site {key.site_code}), fingerprint "
        f"{key.fingerprint}: check it matches the one the kiosk shows ('status')"
    )
    return 0


def run_hub_key(args: argparse.Namespace) -> int:
    from respine_desktop import exports, storage

    with user_errors(), storage.open_database(args.db) as db:
        found, changed = exports.install_hub_file(db, args.file, replace=args.replace)
    key = found.key
    state = "installed the key of" if changed else "already has the key of"
    print(
        f"{state} hub {key.device_id} ({key.label}), fingerprint {key.fingerprint}: check it "
        "matches the one the hub shows ('status'); bundles are now encrypted to it (format 3)"
    )
    return 0
