"""Handing a written PDF to the system: its viewer (open) and its printers (print dialog, spooler).

Qt can print only what it can paint, and this Qt has no PDF renderer (QtPdf is not part of
PySide6-Essentials). So the system print dialog (QtPrintSupport) chooses the printer and the
number of copies, and the PDF file itself goes to the operating system's spooler: CUPS ``lp``
on Linux and macOS, the shell's ``printto`` verb on Windows. Where neither exists, or no printer
is installed, printing is unavailable and the console says why (Open still works: print from
the viewer).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QDialog, QWidget


def open_in_viewer(path: Path) -> bool:
    """Open `path` in the system's default viewer; False if the system refused."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def spooler() -> str | None:
    """The command a PDF is printed with here (``lp``, ``printto``), or None."""
    if sys.platform == "win32":
        return "printto"
    return "lp" if shutil.which("lp") else None


def print_unavailable() -> str | None:
    """Why printing is impossible on this device (a text key of `console.print.*`), or None."""
    if spooler() is None:
        return "console.print.no_spooler"
    if not QPrinterInfo.availablePrinterNames():
        return "console.print.no_printer"
    return None


class Spooled(NamedTuple):
    """What became of a print: a text key of ``console.print.*``, its values, and whether the
    job is on its way (``sent``) rather than failed or held (``paused``)."""

    key: str
    values: dict[str, str]
    ok: bool


def _failed(message: str) -> Spooled:
    return Spooled("console.print.failed", {"message": message}, False)


def _queue_paused(name: str) -> bool:
    """Whether CUPS holds the jobs of printer `name` (``cupsdisable``: "disabled" in lpstat)."""
    try:
        done = subprocess.run(
            ["lpstat", "-p", name], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "disabled" in done.stdout


def print_pdf(path: Path, parent: QWidget | None = None) -> Spooled | None:
    """Ask for a printer in the system print dialog and spool `path` to it.

    Returns None when cancelled, else what became of it: sent (with the spooler's job id), held
    in a paused queue, or failed with the spooler's one-line reason. The PDF stays where it is.
    """
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(path.name)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    name, copies = printer.printerName(), max(1, printer.copyCount())
    try:
        if sys.platform == "win32":
            for _ in range(copies):
                os.startfile(str(path), "printto", f'"{name}"')  # type: ignore[attr-defined]
            return Spooled("console.print.sent", {"printer": name, "job": "-"}, True)
        done = subprocess.run(
            ["lp", "-d", name, "-n", str(copies), "-t", path.name, "--", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return _failed(str(exc))
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return _failed(lines[-1] if lines else f"lp exited with status {done.returncode}")
    found = re.search(r"request id is (\S+)", done.stdout)
    values = {"printer": name, "job": found.group(1) if found else "-"}
    if _queue_paused(name):
        return Spooled("console.print.paused", values, False)
    return Spooled("console.print.sent", values, True)
