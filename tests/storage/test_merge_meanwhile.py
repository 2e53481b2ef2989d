"""A bundle merge's row checks run in a forked child, as the command line runs them (issue 12).

Real merges in a fresh Python process of one thread (the command line's case: no fixture forces
anything, `meanwhile.can_fork` decides): the checks run in a child there; a valid bundle is
merged and verifies; a bundle the validation refuses is refused with the same line as when the
checks run in the merging process, the hub unchanged; a child killed while it checks (SIGKILL)
has the checks run again in the merging process, and the merge completes, the hub verifies;
checks still running when the write is done do not hold the write lock past `CHECKS_WAIT_S`
(rolled back, awaited with the lock free, written again or refused).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import meanwhile, storage
from respine_desktop.storage import bundle_merge
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.storage import test_merge_raw_attacks as raw
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _merge, _stored_answers
from tests.support.exports import table_digest

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = BUNDLE_COLUMNS["answers"]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")

_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from respine_desktop import meanwhile, storage
    from respine_desktop.storage import bundle_merge
    from tests.storage.test_merge_fast_paths import _merge

    hub, case = Path(sys.argv[1]), sys.argv[2]
    rows = {t: [tuple(r) for r in v] for t, v in json.loads(Path(sys.argv[3]).read_text()).items()}
    lines = json.loads(Path(sys.argv[4]).read_text())
    forked = []
    start = meanwhile.start

    def recording(fn, *, fork=None):
        running = start(fn, fork=fork)
        forked.append(running.forked)
        return running

    meanwhile.start = recording
    if case == "killed":
        parent, check_rows = os.getpid(), bundle_merge._check_rows

        def dies_in_the_child(*args):
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            forked.append("checked here")
            return check_rows(*args)

        bundle_merge._check_rows = dies_in_the_child
    try:
        _merge(hub, rows, lines)
        outcome = "merged"
    except storage.MergeRefused as exc:
        outcome = str(exc)
    print(json.dumps({"outcome": outcome, "forked": forked}))
    """
)


def _run(
    tmp_path: Path, hub: Path, rows: dict[str, list[Any]], lines: list[str], case: str
) -> dict[str, Any]:
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "lines.json").write_text(json.dumps(lines))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _SCRIPT,
            str(hub),
            case,
            str(tmp_path / "rows.json"),
            str(tmp_path / "lines.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return got


def test_the_command_lines_merge_checks_the_rows_in_a_child(tmp_path: Path) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    got = _run(tmp_path, hub, rows, _lines(rows["answers"]), "valid")
    assert got == {"outcome": "merged", "forked": [True]}
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def test_a_refusal_found_in_the_child_is_the_one_found_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    answers = rows["answers"]
    target = next(n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")] is not None)
    lines = raw._cell_lines(answers, target, "value", "1000")
    parsed, lines = raw._member(lines)
    rows["answers"] = parsed
    before = table_digest(hub)
    got = _run(tmp_path, hub, rows, lines, "refused")
    assert got["forked"] == [True]
    assert table_digest(hub) == before  # nothing written
    # the same bundle with the checks run here, in this (test) process
    monkeypatch.setattr(meanwhile, "can_fork", lambda: False)
    with pytest.raises(storage.MergeRefused) as here:
        _merge(hub, rows, lines)
    assert got["outcome"] == str(here.value)
    assert "field value" in got["outcome"]


def test_a_child_killed_while_checking_has_the_checks_run_here(tmp_path: Path) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    got = _run(tmp_path, hub, rows, _lines(rows["answers"]), "killed")
    # forked, killed, checked again here
    assert got == {"outcome": "merged", "forked": [True, "checked here"]}
    assert storage.verify_database(hub).ok


@pytest.mark.parametrize("refused", [False, True])
def test_checks_still_running_after_the_write_never_hold_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """The write done and the checks still running past `CHECKS_WAIT_S`: the write is rolled
    back and the lock released while the checks are awaited (a kiosk's write lock is free
    then), and the merge is written again (or refused, the hub unchanged)."""
    hub, rows = _hub_and_rows(tmp_path)
    lines = _lines(rows["answers"])
    if refused:
        answers = rows["answers"]
        target = next(
            n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")] is not None
        )
        rows["answers"], lines = raw._member(raw._cell_lines(answers, target, "value", "1000"))
    before = table_digest(hub)
    release_read, release_write = os.pipe()
    check_rows = bundle_merge._check_rows

    def held_until_released(*args: Any) -> None:  # in the child: waits for the test
        os.read(release_read, 1)
        check_rows(*args)

    writes: list[str] = []
    write_rows = bundle_merge._write_rows

    def counted(*args: Any, **kwargs: Any) -> None:
        writes.append("write")
        write_rows(*args, **kwargs)

    timed_out: list[bool] = []
    result = meanwhile.Running.result

    def releasing(self: meanwhile.Running[Any], timeout: float | None = None) -> Any:
        if timeout is None and timed_out and "released" not in writes:
            # awaited outside the lock: a kiosk can take the write lock now
            kiosk = sqlite3.connect(hub, timeout=0)
            kiosk.execute("BEGIN IMMEDIATE")
            kiosk.execute("ROLLBACK")
            kiosk.close()
            writes.append("released")
            os.write(release_write, b"x")
        try:
            return result(self, timeout)
        except TimeoutError:
            timed_out.append(True)
            raise

    monkeypatch.setattr(meanwhile, "can_fork", lambda: True)
    monkeypatch.setattr(bundle_merge, "_check_rows", held_until_released)
    monkeypatch.setattr(bundle_merge, "_write_rows", counted)
    monkeypatch.setattr(meanwhile.Running, "result", releasing)
    monkeypatch.setattr(bundle_merge, "CHECKS_WAIT_S", 0.01)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*fork.*", DeprecationWarning)  # Python 3.12+, xdist
        if refused:
            with pytest.raises(storage.MergeRefused, match="field value"):
                _merge(hub, rows, lines)
        else:
            _merge(hub, rows, lines)
    assert timed_out == [True]
    if refused:
        assert writes == ["write", "released"]
        assert table_digest(hub) == before
    else:
        assert writes == ["write", "released", "write"]  # rolled back, written again
        assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
        assert storage.verify_database(hub).ok
