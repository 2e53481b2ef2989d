"""Smoke test of a built folder: `python packaging/smoke_test.py dist/respine/respine`.

Runs the frozen executable the way a site would, each step a real process in a temporary folder:
`--version`, the kiosk shown and closed (`--quit-when-ready`, offscreen), then `demo`, `verify`,
`report patient`, `export odm`, `export csv` and `export stats` on a temporary database, checking
each output (the PDF's text names the subject, the ODM parses as CDISC ODM, the CSV and the SPSS
file are there), then a hub made with `init` merging that database's bundle (`export key`, `import
key`, `export bundle`, `import bundle`, `verify`). Prints a line per step and exits 1 at the
first failure, naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

ODM_NS = "{http://www.cdisc.org/ns/odm/v1.3}"
SUBJECT = "RSP-01-001"


# `demo` creates a plaintext demo database whose administrator is admin / 860427; commands
# that write or export sign in as it, the PIN on standard input (`cli/_roles.py`).
SIGN_IN = ["--user", "admin", "--pin-stdin"]
PIN = "860427\n"


def _run(exe: Path, args: list[str], cwd: Path, keys: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RESPINE_KEY_DIR=str(keys))
    stdin = PIN if args[-len(SIGN_IN) :] == SIGN_IN else ""
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: smoke_test.py PATH/TO/respine", file=sys.stderr)
        return 2
    exe = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="respine-smoke-") as tmp:
        work = Path(tmp)
        db = "smoke.db"
        steps: list[tuple[str, list[str], Callable[[subprocess.CompletedProcess[str]], bool]]] = [
            ("version", ["--version"], lambda r: "RESPINE Desktop" in r.stdout),
            ("demo", ["demo", "--db", db, "--subjects", "4", "--seed", "3"], lambda r: True),
            ("kiosk shown", ["--db", db, "--quit-when-ready"], lambda r: True),
            ("verify", ["verify", "--db", db], lambda r: ": ok:" in r.stdout),
            (
                "report patient",
                ["report", "patient", "--db", db, "--subject", SUBJECT, "--out", "p.pdf", *SIGN_IN],
                lambda r: SUBJECT in _pdf_text(work / "p.pdf"),
            ),
            (
                "export odm",
                ["export", "odm", "--db", db, "--out", "study.xml", *SIGN_IN],
                lambda r: ET.parse(work / "study.xml").getroot().tag == f"{ODM_NS}ODM",
            ),
            (
                "validate",
                ["validate", "--out", "validate.pdf"],
                lambda r: "checks passed" in r.stdout and (work / "validate.pdf").is_file(),
            ),
            (
                "export csv",
                ["export", "csv", "--db", db, "--out", "csv", *SIGN_IN],
                lambda r: (work / "csv" / "visits_wide.csv").is_file(),
            ),
            (
                # pyreadstat and pandas (their stripped extension modules load)
                "export stats",
                ["export", "stats", "--db", db, "--out", "stats", *SIGN_IN],
                lambda r: (work / "stats" / "visits_wide.sav").is_file(),
            ),
            # a site's hub merging a kiosk's bundle (the merge's row checks in a forked child)
            (
                "init hub",
                ["init", "--plaintext", "--db", "hub.db", "--admin-pin", PIN.strip()],
                lambda r: (work / "hub.db").is_file(),
            ),
            (
                "export key",
                ["export", "key", "--db", "hub.db", "--out", "site.key", *SIGN_IN],
                lambda r: "site key" in r.stdout,
            ),
            (
                "import key",
                ["import", "key", "--db", db, "site.key", *SIGN_IN],
                lambda r: "installed site key" in r.stdout,
            ),
            (
                "export bundle",
                ["export", "bundle", "--db", db, "--out", "kiosk.bundle", *SIGN_IN],
                lambda r: "4 subjects" in r.stdout,
            ),
            (
                "import bundle",
                ["import", "bundle", "--db", "hub.db", "kiosk.bundle", *SIGN_IN],
                lambda r: "imported bundle" in r.stdout,
            ),
            ("verify hub", ["verify", "--db", "hub.db"], lambda r: ": ok:" in r.stdout),
        ]
        if (exe.parent / "_internal" / "traceability.json").is_file():
            steps.append(
                (
                    "validate --trace",
                    ["validate", "--trace"],
                    lambda r: "requirements proved by passing tests" in r.stdout,
                )
            )
        else:
            print("note: this build holds no test-run record: validate --trace not run")
        for name, args, check in steps:
            start = time.perf_counter()
            result = _run(exe, args, work, work / "keys")
            took = time.perf_counter() - start
            # --trace exits 1 when the recorded test run left a requirement unproved (a test
            # skipped where CUPS is missing, say): the smoke test checks that it reports.
            allowed = (0, 1) if name == "validate --trace" else (0,)
            if result.returncode not in allowed or not check(result):
                print(f"FAIL {name}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
                return 1
            print(f"ok   {name} ({took:.2f} s)")
    print(f"smoke test passed: {exe}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
