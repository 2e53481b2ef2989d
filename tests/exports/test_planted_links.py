"""Links planted in an export folder (a shared drive: anyone who may write there) under the names
an export writes: its temporary ``.partial`` files, its workers' parts, its set journal, its
final names. Each export removes a link it finds under a name it is about to write, never
writing through it into the file it points to (a file of the user's anywhere: their shell
profile, another study's export); its outputs are its own regular files.

Before, a symbolic link planted as ``visits_wide.csv.partial`` made the CSV export write the
visits into the linked file and rename the link into place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from respine_desktop import exports, files, private_folders, storage
from respine_desktop.exports.stats import export_stats
from respine_desktop.exports.subject_parts import SET_JOURNAL
from tests.support.exports import demo_db

VICTIM = "precious: the user's own file\n"

# export -> (its call into a folder or file, and whether `out` is a folder)
EXPORTS: dict[str, tuple[Callable[[storage.StudyDb, Path], object], bool]] = {
    "csv, two workers": (lambda db, out: exports.export_csv(db, out, workers=2), True),
    "csv, one process": (lambda db, out: exports.export_csv(db, out, workers=1), True),
    "redcap": (exports.export_redcap, True),
    "stats": (export_stats, True),
    "odm": (exports.export_odm, False),
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("links") / "kiosk.db"
    demo_db(path, subjects=3)
    return path


def _names(study: Path, kind: str, reference: Path) -> list[str]:
    """Every name the export writes (its outputs, their partials and parts, its journal)."""
    write, folder = EXPORTS[kind]
    with storage.open_database(study, readonly=True) as db:
        write(db, reference / "out" if folder else reference / "study.xml")
    finals = [p.name for p in (reference / "out").iterdir()] if folder else ["study.xml"]
    names = [*finals, *(f"{n}.partial" for n in finals)]
    names += [f"{n}.part{k}.partial" for n in finals for k in (1, 2)] + [SET_JOURNAL]
    return names


@pytest.mark.parametrize("kind", sorted(EXPORTS))
@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_a_link_planted_under_a_name_an_export_writes_is_never_written_through(
    study: Path, tmp_path: Path, kind: str, link: str
) -> None:
    (tmp_path / "reference").mkdir()
    names = _names(study, kind, tmp_path / "reference")
    victims = tmp_path / "victims"
    victims.mkdir()
    folder = tmp_path / "out"
    folder.mkdir()
    for name in names:
        victim = victims / name
        # (a journal is read first, to finish an interrupted set: an empty one, read and gone)
        victim.write_text("[]\n" if name == SET_JOURNAL else VICTIM)
        if link == "symbolic":
            (folder / name).symlink_to(victim)
        else:
            os.link(victim, folder / name)
    write, is_folder = EXPORTS[kind]
    with storage.open_database(study, readonly=True) as db:
        write(db, folder if is_folder else folder / "study.xml")
    assert all(v.read_text() in (VICTIM, "[]\n") for v in victims.iterdir())
    assert (victims / SET_JOURNAL).read_text() == "[]\n"
    reference = tmp_path / "reference" / ("out" if is_folder else "")
    made = {p.name for p in reference.iterdir()} if is_folder else {"study.xml"}
    for name in made:
        output = folder / name
        assert not output.is_symlink() and output.stat().st_nlink == 1, name
        if kind not in ("odm", "stats"):  # (their files hold the time they were made)
            assert output.read_bytes() == (reference / name).read_bytes(), name


def test_open_new_removes_what_is_at_the_name_and_creates_its_own(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM)
    name = tmp_path / "out.partial"
    name.symlink_to(victim)
    with files.open_new(name, "w", encoding="utf-8") as f:
        f.write("mine\n")
    assert victim.read_text() == VICTIM and not name.is_symlink()
    assert name.read_text() == "mine\n"
    with files.open_new(name, "w+b") as f:  # a file left by a killed run: replaced
        f.write(b"again")
        f.seek(0)
        assert f.read() == b"again"
    (tmp_path / "folder.partial").mkdir()
    with pytest.raises(IsADirectoryError):
        files.open_new(tmp_path / "folder.partial")


@pytest.mark.parametrize("writer", ["write_sav", "write_dta", "write_xport"])
@pytest.mark.parametrize("fails", [False, True])
def test_a_link_planted_as_the_statistics_writer_opens_its_file_is_not_written_through(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, fails: bool
) -> None:
    """pyreadstat opens the name it is given itself, after any check of ours: a link planted
    under the ``.partial`` name at that very instant (here: by the writer's own call, as the
    attacker would) redirected the file into the linked one before. It now writes into a
    folder of its own that nobody else may write into; the finished file replaces the link.
    Whether the writer succeeds or fails, that folder is gone after the export."""
    import pyreadstat

    folder = tmp_path / "out"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM)
    ext = {"write_sav": "sav", "write_dta": "dta", "write_xport": "xpt"}[writer]
    planted = folder / f"visits_wide.{ext}.partial"
    real = getattr(pyreadstat, writer)

    def racing(frame: object, target: object, **options: object) -> object:
        if Path(str(target)).name.startswith("visits_wide."):  # (its first table's file)
            planted.unlink(missing_ok=True)
            planted.symlink_to(victim)
        assert Path(str(target)).parent.stat().st_mode & 0o077 == 0  # (only its owner's)
        if fails:
            raise pyreadstat.ReadstatError("Unable to write data")
        return real(frame, target, **options)

    monkeypatch.setattr(pyreadstat, writer, racing)
    with storage.open_database(study, readonly=True) as db:
        if fails:
            with pytest.raises(exports.ExportError, match="cannot write the visits_wide files"):
                export_stats(db, folder)
        else:
            export_stats(db, folder)
    assert victim.read_bytes() == VICTIM.encode()  # (before: the SPSS, Stata or SAS file)
    assert not [p for p in folder.iterdir() if p.name.startswith(".stats-")]
    if not fails:
        made = folder / f"visits_wide.{ext}"
        assert not made.is_symlink() and made.stat().st_nlink == 1
        assert made.stat().st_size > 0


def test_a_killed_statistics_exports_folder_is_removed_by_the_next(
    study: Path, tmp_path: Path
) -> None:
    """A statistics export killed while pyreadstat wrote (SIGKILL, a power cut: no cleanup ran)
    left its private folder, with half a file of patient data in it, in the export folder; the
    next export removes it. One still being filled (young, or held by its process) stays:
    `tests/test_private_folders.py`."""
    folder = tmp_path / "out"
    folder.mkdir()
    left = private_folders.new_folder(folder, ".stats-", ".partial")  # as `private` leaves it
    (left / private_folders.MARKER).touch()
    (left / "visits_wide.sav").write_bytes(b"half a file")
    then = time.time() - private_folders.ABANDONED_AFTER_S - 60
    os.utime(left, (then, then))
    with storage.open_database(study, readonly=True) as db:
        export_stats(db, folder)
    assert not left.exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".stats-")]
    assert (folder / "visits_wide.sav").stat().st_size > 0


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_a_link_put_under_a_written_part_before_the_join_is_refused_not_copied(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    """A CSV worker's part, once written, is joined into the output by name: a link put under
    that name in between (here: just before the join opens it, as the attacker would) had the
    linked file (any file the user may read) copied into the export. Now the join refuses it in
    one line, and nothing is written or left."""
    from respine_desktop.exports import part_joiner

    secret = tmp_path / "another-study.csv"
    secret.write_text("SECRET,another study's data\n")
    folder = tmp_path / "out"
    folder.mkdir()
    real = part_joiner._open_part

    def racing(part: Path, flags: int, expected: tuple[int, int]) -> int:
        if ".part1." in part.name:  # a part to append (run 1's), replaced by a link to the secret
            part.unlink()
            if link == "symbolic":
                part.symlink_to(secret)
            else:
                os.link(secret, part)
        return real(part, flags, expected)

    monkeypatch.setattr(part_joiner, "_open_part", racing)
    with (
        storage.open_database(study, readonly=True) as db,
        pytest.raises(exports.ExportError, match="is not the part this export wrote"),
    ):
        exports.export_csv(db, folder, workers=2)
    assert secret.read_text() == "SECRET,another study's data\n"
    assert [p.name for p in folder.iterdir()] == []
