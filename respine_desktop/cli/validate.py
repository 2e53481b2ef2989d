"""`validate`: the device qualifies itself (IQ/OQ) and prints the evidence; exit 1 on a failure."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

NAME = "validate"
HELP = (
    "Qualify this device: check the installed files against their build manifest and the "
    "runtime (IQ), then score the published fixtures, the endpoint's boundary cases, a "
    "database's life cycle, a writer killed mid-visit, tamper detection, an ODM export against "
    "the XSD, a bundle round trip and a PDF (OQ), in a temporary folder. Prints one line per "
    "check; --out writes the evidence as a PDF to sign. Exit 0 when every check passed, 1 "
    "otherwise."
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE.pdf", help="write the report as a PDF")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="print the requirement → test → result matrix of the build's test run instead",
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
        written = reports.write_qualification_pdf(identity, rows, out)
        print(f"{written.path}: {written.pages} page(s)")
    return 1 if failed else 0
