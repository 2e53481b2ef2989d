"""A folder an export is writing into is held for it: a second export into it meanwhile (the
console and the command line, two consoles on a shared drive) is refused in one line with
nothing written, where the two used to write each other's parts and files into a mix of both
studies, one of them reporting success; once the first ends (even killed), the folder is free."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports.stats import export_stats
from tests.support.exports import controlled_clock, demo_db
from tests.support.processes import held_child

# Another process in the middle of an export into the folder (every folder export holds it
# from the start: `exports.files.output_folder`), waiting to be killed.
EXPORTING = """
import sys
from pathlib import Path
from respine_desktop.exports.files import output_folder
with output_folder(Path(sys.argv[1])) as folder:
    print(folder, flush=True)
    sys.stdin.read()
"""

FOLDER_EXPORTS: dict[str, Callable[..., Any]] = {
    "csv": exports.export_csv,
    "redcap": exports.export_redcap,
    "stats": export_stats,
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("held") / "demo.db"
    demo_db(path, subjects=6, seed=5)
    return path


@pytest.mark.parametrize("kind", sorted(FOLDER_EXPORTS))
def test_a_second_export_into_a_folder_in_use_is_refused(
    study: Path, tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "visits_wide.csv").write_bytes(b"an earlier export\r\n")
    export = FOLDER_EXPORTS[kind]
    with held_child(EXPORTING, str(folder)) as (_, said):
        assert said == str(folder)
        with (
            controlled_clock(),
            storage.open_database(study, readonly=True) as db,
            pytest.raises(exports.ExportError) as refused,
        ):
            export(db, folder)
        assert str(refused.value) == (
            f"{folder}: another export is writing into this folder: wait for it to end, or "
            "export into another folder; nothing was written"
        )
        assert [p.name for p in folder.iterdir()] == ["visits_wide.csv"]
        assert (folder / "visits_wide.csv").read_bytes() == b"an earlier export\r\n"
    # the other process killed: its hold went with it
    with controlled_clock(), storage.open_database(study, readonly=True) as db:
        export(db, folder)
    assert len(list(folder.iterdir())) > 1


def test_the_refused_export_leaves_the_other_s_new_folder(study: Path, tmp_path: Path) -> None:
    """(A refused export removes a folder only if it made it: this one the other export made.)"""
    folder = tmp_path / "new"
    with held_child(EXPORTING, str(folder)) as _:
        with (
            storage.open_database(study, readonly=True) as db,
            pytest.raises(exports.ExportError, match="another export is writing"),
        ):
            exports.export_csv(db, folder)
        assert folder.is_dir()  # the other export's, not removed by the refused one


def test_a_refused_export_never_removes_a_folder_another_made_meanwhile(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both exports found no folder; the other made it first and holds it: the refused one did
    not make it (its own making failed), so it leaves it, where it used to remove it under the
    other's feet."""
    from respine_desktop.exports import files as export_files

    folder = tmp_path / "new"
    with held_child(EXPORTING, str(folder)) as _:
        real = export_files.os.path.lexists
        monkeypatch.setattr(
            export_files.os.path, "lexists", lambda p: False if Path(p) == folder else real(p)
        )
        with (
            storage.open_database(study, readonly=True) as db,
            pytest.raises(exports.ExportError, match="another export is writing"),
        ):
            exports.export_csv(db, folder)
        monkeypatch.undo()
        assert folder.is_dir()
