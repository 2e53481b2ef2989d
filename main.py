"""Launcher of a checkout: `python main.py` is the installed `respine` command (`ui.launcher`),
plus `screenshots`, a developer's tool that is not shipped."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv and argv[0] == "screenshots":
        from tools.screenshots.kiosk import run_screenshots

        return run_screenshots(argv[1:])
    from ui.launcher import run

    return run(argv)


if __name__ == "__main__":
    # Long exports run in worker processes; a frozen build starts them through this executable.
    # (freeze_support does nothing unless frozen: multiprocessing, some 30 ms, is not imported
    # for the kiosk's start from a checkout.)
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
