"""What the kiosk's start imports: ready (lock screen shown, database open) before the flow, and
never the reports' or the exports' libraries, in a real process started as `main.py` would be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.kiosk import make_database

ROOT = Path(__file__).resolve().parents[3]

# Runs the kiosk as `main.py --db DB --quit-when-ready` does; records sys.modules at ready (the
# moment the app's open_database returns, the lock screen being shown) and at the end: the modules
# the app imported, not those already loaded before it (under `make test` coverage measures the
# child and has imported hashlib, sqlite3 and more before the app starts).
CHILD = """
import json, sys
before = set(sys.modules)
from respine_desktop import storage
real_open = storage.open_database
at_ready = []

def spy(*args, **kwargs):
    db = real_open(*args, **kwargs)
    from PySide6.QtWidgets import QApplication
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    pages = [type(w.page()).__name__ for w in shown if hasattr(w, "page")]
    modules = sorted(set(sys.modules) - before)
    app = QApplication.instance()
    sheet = app.styleSheet()  # the style under the style sheet's: without it for a moment
    app.setStyleSheet("")
    style = app.style().name()
    app.setStyleSheet(sheet)
    order = list(sys.modules)  # in the order they were first imported
    at_ready.append({"modules": modules, "order": order, "pages": pages, "style": style})
    return db

storage.open_database = spy
from ui.app import run_app
code = run_app(["--db", sys.argv[1], "--quit-when-ready", "--settings", sys.argv[2]])
print(json.dumps({"code": code, "ready": at_ready, "end": sorted(set(sys.modules) - before)}))
"""

NEVER = ("scipy", "pandas", "reportlab", "matplotlib", "numpy", "svglib", "lxml")
NOT_AT_START = (
    "respine_desktop.storage.bundle_merge",
    "respine_desktop.storage._verify",
    "respine_desktop.storage.export_reads",
    "respine_desktop.bundles",
    "respine_desktop.exports",
    "respine_desktop.reports",
    "respine_desktop.qualification",
    "ui.console",
)

NOT_AT_READY = (
    "importlib.resources",
    "locale",
    "hashlib",
    "secrets",
    "sqlite3",
    "ui.widgets.touch_scroll",
    "platformdirs",
)


def loaded(modules: list[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_the_kiosk_is_ready_before_the_flow_and_never_loads_the_heavy_libraries(
    tmp_path: Path,
) -> None:
    db_path = make_database(tmp_path / "kiosk.db")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(db_path), str(tmp_path / "settings.json")],
        cwd=ROOT,
        # Another style asked for by the environment: the kiosk's (Fusion) is the one shown.
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(ROOT),
            "QT_STYLE_OVERRIDE": "windows",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    (ready,) = result["ready"]  # the database was opened once, by the app
    assert ready["pages"] == ["LockPage"]
    assert ready["style"] == "fusion"
    # What the first screen needs without Qt was imported before PySide (which reads the source
    # of every module imported after it).
    order = ready["order"]
    for name in ("respine_desktop.i18n", "ui.kiosk.settings", "json", "dataclasses"):
        assert order.index(name) < order.index("PySide6.QtCore"), name
    # At ready: the database is open without sqlite-utils, the flow or the session.
    for name in ("sqlite_utils", "ui.kiosk.flow", "ui.kiosk.lockdown", "respine_desktop.session"):
        assert not loaded(ready["modules"], name), name
    # Nor what the plain start needs none of: the resources are found without
    # importlib.resources, the options read without building argparse's parser (gettext's
    # locale), a plaintext database opened without hashlib or secrets (key ids, new keys), the
    # standard library's sqlite3 (the driver is sqlcipher3), the scrolling pages' classes, nor
    # platformdirs (the paths are given).
    for name in NOT_AT_READY:
        assert not loaded(ready["modules"], name), name
    # After the flow loaded too (the process exits once the kiosk is ready to be tapped):
    assert loaded(result["end"], "ui.kiosk.flow")
    for name in (*NEVER, *NOT_AT_START):
        assert not loaded(result["end"], name), name
