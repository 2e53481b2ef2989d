"""Start the Qt application: parse the options, style it, open the kiosk window full screen.

`python main.py [--db PATH] [--quit-when-ready] [--windowed] [--idle-seconds N]`

Start-up shows the first screen (the lock), then opens the database: the app is ready. Only then
is the heavy half of the application imported (the kiosk's flow, the session, sqlite-utils, the
investigator console's entry): it loads right after, before the first tap can be handled.

Without `--db` the database is `respine.db` in the user's data directory (platformdirs' answer,
`respine_desktop.paths.user_data_dir`). A path with no file yet starts the first-run set-up,
which creates the database and its administrator account (username and PIN).
`--quit-when-ready` builds and shows the first screen, then exits 0 (smoke tests and start-up
benchmarks). The window and how to add a screen to it are described in `ui.kiosk.window`; the
way between the screens in `ui.kiosk.flow`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

# What the first screen needs that uses no Qt is imported before PySide: once loaded, PySide reads
# the source of every module an import statement names for the first time (`inspect.getsource`,
# for its `__feature__` switches), some 10 ms of the kiosk's start from a checkout.
from respine_desktop.i18n import t
from ui.kiosk.settings import default_settings_path, load_settings

# isort: split
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from ui.kiosk.full_screen import show_full_screen
from ui.kiosk.lock_page import LockPage
from ui.kiosk.window import KioskWindow
from ui.style import application, apply_style

if TYPE_CHECKING:
    import argparse

    from ui.kiosk.flow import KioskFlow

# Only what the first screen needs is imported up front (Qt, the window, the lock page). The
# kiosk's flow (storage with sqlite-utils, the session) is imported once the first screen is
# painted, and the investigator console (matplotlib behind its charts) only when staff first open
# it: both lazily, on purpose, for start-up speed.

APP_NAME = "respine-desktop"
# Set (to anything) to have the wall-clock time of the first painted screen and the CPU time
# used until then printed on stderr as "first-screen <unix time> cpu <seconds>" (for
# bench/kiosk.py), and once the database is open too, "ready <unix time> cpu <seconds>".
TRACE_ENV = "RESPINE_TRACE_STARTUP"


def default_db_path() -> Path:
    from respine_desktop.paths import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "respine.db"


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="main.py",
        description="RESPINE Desktop kiosk. `python main.py COMMAND --help` for the commands.",
    )
    parser.add_argument("--db", type=Path, help="database file (default: in the user data dir)")
    parser.add_argument(
        "--quit-when-ready", action="store_true", help="show the first screen, then exit 0"
    )
    parser.add_argument("--windowed", action="store_true", help="a window, not full screen")
    parser.add_argument(
        "--idle-seconds",
        type=int,
        help="idle time before the kiosk parks and locks (>= 10), this run only (never saved)",
    )
    parser.add_argument("--settings", type=Path, help="this device's display settings file (JSON)")
    return parser


class Options:
    """The kiosk's options, as `build_parser` parses them (`parse_options`)."""

    def __init__(self) -> None:
        self.db: Path | None = None
        self.quit_when_ready = False
        self.windowed = False
        self.idle_seconds: int | None = None
        self.settings: Path | None = None


_FLAGS = {"--quit-when-ready": "quit_when_ready", "--windowed": "windowed"}
_VALUES = {"--db": "db", "--settings": "settings", "--idle-seconds": "idle_seconds"}


def parse_options(argv: list[str]) -> Options:
    """The options in `argv`, exactly as `build_parser` parses them; its errors (exit 2) too.

    The options written out in full (``--db FILE``, ``--db=FILE``, the flags) are read here
    directly: building the argparse parser and its messages costs some 7 ms of the kiosk's
    start-up (gettext and locale with them). Anything else (an abbreviation, ``--help``, a value
    starting with "-", a value that is not a whole number, an unknown option) goes to argparse.
    """
    options = _parse_plain(argv)
    if options is None:
        options = build_parser().parse_args(argv, namespace=Options())
    return options


def _parse_plain(argv: list[str]) -> Options | None:
    """`parse_options` for the plain forms; None for anything argparse must judge."""
    options = Options()
    args = iter(argv)
    for arg in args:
        if arg in _FLAGS:
            setattr(options, _FLAGS[arg], True)
            continue
        name, equals, value = arg.partition("=")
        if name not in _VALUES:
            return None
        if not equals:
            value = next(args, "-")
            if value.startswith("-"):
                return None  # missing, or an option argparse may take as one
        if _VALUES[name] == "idle_seconds":
            try:
                options.idle_seconds = int(value)
            except ValueError:
                return None
        else:
            setattr(options, _VALUES[name], Path(value))
    return options


def run_app(argv: list[str]) -> int:
    """Run the kiosk until staff quit it; the exit code of the process."""
    args = parse_options(argv)
    if args.idle_seconds is not None and args.idle_seconds < 10:
        print("error: --idle-seconds must be at least 10", file=sys.stderr)
        return 2
    db_path: Path = args.db or default_db_path()
    if not db_path.parent.is_dir():
        if args.db is not None:
            from respine_desktop.files import no_folder

            print(f"error: {no_folder(db_path.parent)}", file=sys.stderr)
            return 2
        db_path.parent.mkdir(parents=True, exist_ok=True)

    settings_path: Path = args.settings or default_settings_path()
    settings = load_settings(settings_path)
    if args.idle_seconds is not None:
        settings = settings.changed(idle_timeout_s=args.idle_seconds)
    app = QApplication.instance() or application([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    apply_style(app, large_text=settings.large_text, high_contrast=settings.high_contrast)
    window = KioskWindow(t(settings.staff_language, "common.app_name"))
    window.show_page(_first_screen(settings.staff_language, db_path))
    failures: list[str] = []
    if args.windowed or args.quit_when_ready:
        window.resize(1280, 800)
        window.show()
    else:
        show_full_screen(window)  # also with no window manager
    app.processEvents()  # the first screen is painted here
    if os.environ.get(TRACE_ENV):
        print(
            f"first-screen {time.time():.6f} cpu {time.process_time():.6f}",
            file=sys.stderr,
            flush=True,
        )

    def finish_start() -> None:
        # Ready: the lock screen is shown and the database is open (the lazy storage package
        # loads only what opening needs). The flow with the rest of the domain behind it (the
        # session, the staff pages, sqlite-utils) is imported after, for start-up speed.
        opened = None
        if db_path.exists():
            from respine_desktop import storage

            try:
                opened = storage.open_database(db_path)
            except storage.StorageError as exc:
                failures.append(str(exc))
                app.exit(2)
                return
        if os.environ.get(TRACE_ENV):
            print(f"ready {time.time():.6f} cpu {time.process_time():.6f}", file=sys.stderr)
        from ui.kiosk.flow import KioskFlow

        kiosk = KioskFlow(
            window, db_path, settings=settings, settings_path=settings_path, defer_open=True
        )

        def on_failed(message: str) -> None:
            failures.append(message)
            kiosk.release()
            app.exit(2)

        kiosk.failed.connect(on_failed)
        kiosk.open_database(opened=opened)
        if failures:
            return
        install_console(kiosk)
        if args.quit_when_ready:
            kiosk.release()
            app.quit()

    QTimer.singleShot(0, finish_start)
    code = app.exec()
    for message in failures:
        print(f"error: {message}", file=sys.stderr)
    return 2 if failures else code


def _first_screen(lang: str, db_path: Path) -> QWidget:
    """The screen painted before the flow is loaded: the lock, or the first-run set-up (the
    flow replaces it with its own before the first tap can be handled)."""
    if db_path.exists():
        return LockPage(lang)
    # The staff pages (some 25 ms to import) only on a first run, for start-up speed.
    from ui.kiosk.staff_pages import SetupPage

    return SetupPage(lang, str(db_path))


def install_console(kiosk: KioskFlow) -> None:
    """Make the kiosk's "Investigator console" button open a fresh console page.

    The two rooms never import each other: the console is given to the kiosk here.
    """
    kiosk.console_page_factory = _console_page


def _console_page(kiosk: KioskFlow) -> QWidget:
    # The console's modules (and matplotlib behind its charts) load when staff first open it,
    # not at start-up: imported lazily on purpose.
    from ui.console.page import console_page_for

    return console_page_for(kiosk)
