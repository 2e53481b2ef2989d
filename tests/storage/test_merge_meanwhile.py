"""A bundle merge's row checks run in a forked child, as the command line runs them (issue 12).

Real merges in a fresh Python process of one thread (the command line's case: no fixture forces
anything, `meanwhile.can_fork` decides): the checks run in a child there; a valid bundle is
merged and verifies; a bundle the validation refuses is refused with the same line as when the
checks run in the merging process, the hub unchanged; a child killed while it checks (SIGKILL)
has the checks run again in the merging process, and the merge completes, the hub verifies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import meanwhile, storage
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


def _refused_alike(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hub: Path,
    rows: dict[str, list[Any]],
    lines: list[str],
) -> str:
    """The refusal of a merge run as the command line runs it (the checks forked), checked to
    be the one found with every check run here, in this process; the hub unchanged."""
    before = table_digest(hub)
    got = _run(tmp_path, hub, rows, lines, "refused")
    assert got["forked"] == [True]
    assert table_digest(hub) == before  # nothing written
    monkeypatch.setattr(meanwhile, "can_fork", lambda: False)
    with pytest.raises(storage.MergeRefused) as here:
        _merge(hub, rows, lines)
    assert got["outcome"] == str(here.value)
    return str(got["outcome"])


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
    assert "field value" in _refused_alike(tmp_path, monkeypatch, hub, rows, lines)


def test_a_child_killed_while_checking_has_the_checks_run_here(tmp_path: Path) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    got = _run(tmp_path, hub, rows, _lines(rows["answers"]), "killed")
    # forked, killed, checked again here
    assert got == {"outcome": "merged", "forked": [True, "checked here"]}
    assert storage.verify_database(hub).ok


def _forged_score(rows: dict[str, list[Any]]) -> None:
    """One current score row of the bundle given another value (its answers unchanged)."""
    columns = BUNDLE_COLUMNS["scores"]
    at, by = columns.index("scores"), columns.index("superseded_by")
    scores = rows["scores"]
    n = next(
        n
        for n, r in enumerate(scores)
        if r[by] is None and any(isinstance(v, float) for v in json.loads(r[at]).values())
    )
    values = json.loads(scores[n][at])
    key = next(k for k, v in values.items() if isinstance(v, float))
    values[key] += 1.5
    scores[n] = (*scores[n][:at], json.dumps(values), *scores[n][at + 1 :])


def test_the_score_check_run_in_the_child_refuses_as_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The score check runs in the child after the validation, the chain hashes and the
    digests (while the merging process stages and writes): a forged score is refused with the
    same line as when every check runs here, the hub unchanged."""
    hub, rows = _hub_and_rows(tmp_path)
    _forged_score(rows)
    outcome = _refused_alike(tmp_path, monkeypatch, hub, rows, _lines(rows["answers"]))
    assert "differs from the hub's recomputation" in outcome


def test_a_bad_value_is_named_before_a_forged_score_in_the_child_and_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle with a forged score and a value the validation refuses: the validation's
    refusal comes first in the child, as when every check runs here."""
    hub, rows = _hub_and_rows(tmp_path)
    _forged_score(rows)
    answers = rows["answers"]
    target = next(n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")] is not None)
    parsed, lines = raw._member(raw._cell_lines(answers, target, "value", "1000"))
    rows["answers"] = parsed
    assert "field value" in _refused_alike(tmp_path, monkeypatch, hub, rows, lines)
