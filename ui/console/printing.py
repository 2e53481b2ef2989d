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
import shutil
import subprocess
import sys
from pathlib import Path

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


def print_pdf(path: Path, parent: QWidget | None = None) -> str | None:
    """Ask for a printer in the system print dialog and spool `path` to it.

    Returns None when printed or cancelled, else a one-line reason it failed.
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
            return None
        done = subprocess.run(
            ["lp", "-d", name, "-n", str(copies), "-t", path.name, "--", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"lp exited with status {done.returncode}"
    return None
