"""Launcher: `python main.py` opens the kiosk; `python main.py COMMAND` runs a headless command."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    # `screenshots` renders Qt screens, so it lives in ui/ (the domain never imports ui).
    if argv and argv[0] == "screenshots":
        from ui.screenshots import run_screenshots

        return run_screenshots(argv[1:])
    from respine_desktop.cli import COMMANDS, run

    if argv and argv[0] in COMMANDS():
        return run(argv)
    if argv and argv[0] in ("-h", "--help"):
        return run(argv)
    from ui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
