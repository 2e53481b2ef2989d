"""The `respine` command (and `python main.py`): the kiosk app, or a headless command."""

from __future__ import annotations

import sys


def run(argv: list[str]) -> int:
    """Open the kiosk, or run the headless command `argv` names; returns the exit code."""
    # The kiosk's own options start with "-"; anything else names a headless command. The
    # command modules are only imported for a command, so the kiosk starts without them.
    if argv and (not argv[0].startswith("-") or argv[0] in ("-h", "--help", "--version")):
        from respine_desktop.cli import run as run_command
        from respine_desktop.cli import work_done

        code = run_command(argv)
        work_done()  # the command is over: the process only exits now
        return code
    if argv[:1] == ["--screen-info"]:
        from ui.screen_info import main as screen_info

        return screen_info()
    from ui.app import run_app

    return run_app(argv)


def main() -> None:
    """Entry point of the installed `respine` command."""
    # Long exports run in worker processes (`respine_desktop.exports.subject_parts`); a frozen
    # build starts them through this executable.
    if getattr(sys, "frozen", False):  # a no-op otherwise; multiprocessing costs some 30 ms
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
