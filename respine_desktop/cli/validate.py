"""`validate`: the device qualifies itself (IQ/OQ) and prints the evidence; exit 1 on a failure."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

NAME = "validate"
TITLE = "Installation and operational qualification"
HELP = (
    "Qualify this device: check the installed files against their build manifest and the "
    "runtime (IQ), then score the published fixtures, the endpoint's boundary cases, a "
    "database's life cycle, a writer killed mid-visit, tamper detection, an ODM export against "
    "the XSD, a bundle round trip and a PDF (OQ), in a temporary folder. Prints one line per "
    "check; --out writes the evidence as a PDF to sign on paper, or, with --db and --user, "
    "e-signed in that study database (meaning: performed; the PIN from the terminal or "
    "--pin-stdin). Exit 0 when every check passed, 1 otherwise."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE.pdf", help="write the report as a PDF")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="print the requirement → test → result matrix of the build's test run instead",
    )
    sign = parser.add_argument_group(
        "electronic signature",
        "e-sign the results (their SHA-256) in a study database, as the person who ran them; "
        "without --user the PDF keeps a block to sign on paper",
    )
    sign.add_argument("--db", type=Path, metavar="PATH", help="the study database to sign in")
    sign.add_argument("--user", metavar="NAME", help="staff username of the signer")
    sign.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from the first line of standard input (default: asked on the terminal)",
    )
    parser.set_defaults(handler=run)


def run_trace() -> int:
    """The traceability matrix: exit 1 when a requirement has no test or a failed one."""
    from respine_desktop.cli import UsageError
    from respine_desktop.qualification import trace

    results = trace.load_results()
    if results is None:
        raise UsageError(
            f"no test run recorded at {trace.results_path()}: run the tests (make test) first"
        )
    rows = trace.matrix(results)
    print(f"Requirement → test → result, from the test run of {results.get('run_at', '?')}")
    for row in rows:
        print(f"{row.verdict:10}  {row.requirement.id:8}  {row.requirement.text}")
        for nodeid, outcome in row.tests:
            print(f"{'':10}  {'':8}  {outcome:8} {nodeid}")
    bad = [row.requirement.id for row in rows if row.verdict != "pass"]
    print(
        f"validate --trace: {len(rows) - len(bad)} of {len(rows)} requirements proved by "
        "passing tests" + (f"; not proved: {', '.join(bad)}" if bad else "")
    )
    return 1 if bad else 0


def run(args: argparse.Namespace) -> int:
    if args.trace:
        return run_trace()
    from respine_desktop import reports
    from respine_desktop.qualification import run_checks
    from respine_desktop.qualification.installation import build_identity

    out = reports.check_output(args.out) if args.out is not None else None
    pin = _signer_pin(args)
    with tempfile.TemporaryDirectory(prefix="respine-validate-") as tmp:
        checks = run_checks(
            Path(tmp), progress=lambda what: print(f"validate: {what} …", file=sys.stderr)
        )
    width = max(len(c.requirement) for c in checks)
    for c in checks:
        print(f"{c.verdict:4}  {c.requirement:{width}}  {c.title}: {c.observed}")
    failed = [c for c in checks if not c.passed]
    print(
        f"validate: {len(checks) - len(failed)} of {len(checks)} checks passed"
        + (f"; FAILED: {', '.join(c.requirement for c in failed)}" if failed else "")
    )
    if out is not None:
        identity = [(k, v) for k, v in build_identity().items()]
        rows = [(c.requirement, c.title, c.expected, c.observed, c.verdict) for c in checks]
        signature = _sign(args, pin, results_sha256(identity, rows)) if pin is not None else None
        written = reports.write_qualification_pdf(identity, rows, out, signature=signature)
        print(f"{written.path}: {written.pages} page(s)")
    return 1 if failed else 0


def results_sha256(
    identity: list[tuple[str, str]], rows: list[tuple[str, str, str, str, str]]
) -> str:
    """SHA-256 of the results' canonical text (compact JSON of the identity and check rows):
    what the signature signs, printed in the PDF so the two can be compared."""
    text = json.dumps({"identity": identity, "checks": rows}, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signer_pin(args: argparse.Namespace) -> str | None:
    """The signer's PIN, checked before the checks run (None without --user); bad usage and a
    wrong PIN end here, before anything is written."""
    from respine_desktop.cli import UsageError

    if args.user is None:
        if args.db is not None or args.pin_stdin:
            raise UsageError("--db and --pin-stdin sign the results: give --user NAME too")
        return None
    if args.out is None or args.db is None:
        raise UsageError("an e-signed qualification needs --out FILE.pdf and --db DATABASE")
    from respine_desktop import storage
    from respine_desktop.cli._signin import read_pin

    pin = read_pin(args.user, args.pin_stdin)
    with storage.open_database(args.db) as db:
        storage.authenticate(db, args.user, pin)  # a wrong PIN fails now, not after the checks
    return pin


def _sign(args: argparse.Namespace, pin: str, sha256: str) -> list[tuple[str, str]]:
    """Sign the results in the study database; the PDF's signature block."""
    from respine_desktop import storage

    with storage.open_database(args.db) as db:
        sig = storage.sign_document(
            db, username=args.user, pin=pin, document_sha256=sha256, title=TITLE
        )
    print(f"validate: e-signed by {sig.username} ({sig.role}) at {sig.signed_at}: {sha256}")
    return [
        ("Name", sig.username),
        ("Role", sig.role),
        ("Date and time (UTC)", sig.signed_at),
        ("Meaning", f"{sig.meaning}: {sig.statement}"),
        ("Results SHA-256", sig.content_sha256),
        (
            "Signature",
            f"electronic signature {sig.id} (21 CFR Part 11), recorded in the audited study "
            f"database of device {sig.device_id}",
        ),
    ]
