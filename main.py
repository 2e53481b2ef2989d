"""Launcher: `python main.py` opens the kiosk; `python main.py COMMAND` runs a headless command."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str]) -> int:
    # `screenshots` renders Qt screens, so it lives in ui/ (the domain never imports ui).
    if argv and argv[0] == "screenshots":
        from ui.screenshots import run_screenshots

        return run_screenshots(argv[1:])
    # The kiosk's own options start with "-"; anything else names a headless command. The
    # command modules are only imported for a command, so the kiosk starts without them.
    if argv and (not argv[0].startswith("-") or argv[0] in ("-h", "--help", "--version")):
        from respine_desktop.cli import run

        return run(argv)
    from ui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    # Long exports run in worker processes (`respine_desktop.exports.subject_parts`); a frozen
    # build starts them through this executable.
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
