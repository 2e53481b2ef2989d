"""The kiosk as a process: start-up smoke test, SIGKILL and restart, the screenshots command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.kiosk import SUBJECT, Kiosk, make_database

ROOT = Path(__file__).resolve().parents[3]
CHILD = ROOT / "tests" / "support" / "kiosk_child.py"
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def main_py(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quit_when_ready_exits_0_on_a_database(db_path: Path, tmp_path: Path) -> None:
    done = main_py("--db", db_path, "--quit-when-ready", "--settings", tmp_path / "s.json")
    assert done.returncode == 0, done.stderr


def test_quit_when_ready_on_a_new_path_shows_set_up_and_creates_nothing(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    done = main_py("--db", new, "--quit-when-ready", "--settings", tmp_path / "s.json")
    assert done.returncode == 0, done.stderr
    assert not new.exists()


def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("hello")
    done = main_py("--db", bad, "--quit-when-ready", "--settings", tmp_path / "s.json")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "not a RESPINE database" in errors[0]
    assert "Traceback" not in done.stderr and bad.read_text() == "hello"


@pytest.mark.req("DB-06")
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_kiosk_resumes_at_the_same_item_after_restart(
    db_path: Path, tmp_path: Path, start_kiosk: Callable[[Path], Kiosk]
) -> None:
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(db_path), str(tmp_path / "s.json"), "odi_05"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            # Blocks until the child has the item on screen (its answers are committed by then).
            assert child.stdout.readline().strip() == "at odi_05"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    kiosk = start_kiosk(db_path)
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    assert page.step.item.id == "odi_05" and page.choices is not None
    assert page.choices.value() is None
    with storage.open_database(db_path) as db:
        (session,) = storage.subject_sessions(db, SUBJECT)
        assert len(storage.current_answers(db, session.id)) == 5


def test_screenshots_render_every_screen_and_leave_the_database_alone(tmp_path: Path) -> None:
    db_path = make_database(tmp_path / "demo.db")
    with storage.open_database(db_path) as db:
        before = storage.counts(db)
    out = tmp_path / "shots"
    done = main_py("screenshots", "--db", db_path, "--out", out)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.glob("*.png"))
    assert names[0].startswith("001-lock") and any(n.endswith("-locked-again.png") for n in names)
    from respine_desktop.session import visit_steps

    for step in visit_steps(("vas", "odi", "sf36")):
        assert any(f"-{step.item.id}" in n for n in names), step.item.id
    for screen in ("staff-pin", "staff-home", "hand-over", "idle-countdown", "review", "thank-you"):
        assert any(screen in n for n in names), screen
    # The console's e-signing (by the administrator here, the only account): form, then signed.
    assert any(n.endswith("-console-subject-sign.png") for n in names)
    assert any(n.endswith("-console-subject-signed.png") for n in names)
    assert all((out / n).stat().st_size > 1000 for n in names)
    with storage.open_database(db_path) as db:
        assert storage.counts(db) == before


def test_screenshots_refuse_a_missing_database_in_one_line(tmp_path: Path) -> None:
    done = main_py("screenshots", "--db", tmp_path / "none.db", "--out", tmp_path / "o")
    assert done.returncode == 2 and done.stderr.startswith("error:")
    assert "Traceback" not in done.stderr
