"""A real CUPS print queue for the printing tests: cupsd with a cups-pdf virtual printer.

`cups_queue(name)` starts the system's cupsd when it is not running and adds the queue `name`
(driver: cups-pdf's PPD, backend ``cups-pdf:/``), which writes each job as a PDF into
``$HOME/PDF`` of the submitting user. It needs root (cupsd, lpadmin) and Debian's ``cups`` and
``printer-driver-cups-pdf`` (installed by `.ci/run` when it runs as root); elsewhere the tests
that need it are skipped, saying which part is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
OUTPUT = Path.home() / "PDF"


def missing() -> str | None:
    """Why a CUPS virtual printer cannot be set up here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "CUPS tests need root (cupsd, lpadmin); run by .ci/run as root"
    for tool in ("cupsd", "lpadmin", "lp", "lpstat", "cupsdisable", "cupsenable"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (Debian: cups)"
    if not PPD.is_file() or not BACKEND.exists():
        return "cups-pdf not installed (Debian: printer-driver-cups-pdf)"
    return None


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


def cups_queue(name: str) -> str:
    """A running cupsd with an enabled cups-pdf queue `name`; returns the name."""
    if _run("lpstat", "-r").stdout.strip() != "scheduler is running":
        # In daemon mode cupsd's first process exits only once the scheduler it forked signals
        # that it listens (SIGUSR1): when this returns, the scheduler answers.
        subprocess.run(["cupsd"], check=True, timeout=60)
        if _run("lpstat", "-r").stdout.strip() != "scheduler is running":
            raise RuntimeError("cupsd did not start")
    done = _run("lpadmin", "-p", name, "-v", "cups-pdf:/", "-P", str(PPD), "-E")
    if done.returncode != 0:
        raise RuntimeError(f"lpadmin: {done.stderr.strip()}")
    return name


def printed_file(job: str) -> Path | None:
    """The PDF cups-pdf wrote for spooler job `job` (e.g. ``RESPINE-PDF-gw0-3``) once the job is
    complete, else None (the tests wait on it with ``qtbot.waitUntil``)."""
    number = job.rsplit("-", 1)[-1]
    if job not in _run("lpstat", "-W", "completed", "-o").stdout:
        return None
    found = sorted(OUTPUT.glob(f"*job_{number}.pdf"))
    return found[-1] if found else None
