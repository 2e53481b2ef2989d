"""`respine_desktop.files`: why an output cannot be written where it is asked, in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from respine_desktop import files


def test_a_missing_folder_is_named_as_missing(tmp_path: Path) -> None:
    assert files.no_folder(tmp_path / "a" / "b") == f"{tmp_path / 'a' / 'b'}: no such directory"


def test_a_folder_under_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    for folder in (tmp_path / "notes.txt", tmp_path / "notes.txt" / "a" / "b"):
        assert files.no_folder(folder) == f"{tmp_path / 'notes.txt'}: is a file, not a folder"


def test_a_folder_under_a_device_says_what_it_is() -> None:
    assert files.no_folder(Path("/dev/null/x")) == "/dev/null: is a character device, not a folder"


def test_a_link_to_a_file_names_the_link(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "notes.txt")
    link = tmp_path / "link"
    assert files.no_folder(link / "a") == f"{link}: is a file, not a folder"


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o464, 0o555])
def test_a_read_only_file_is_not_a_target(tmp_path: Path, mode: int) -> None:
    """Its owner's write permission off: refused, even for root (whom `os.access` lets write)."""
    path = tmp_path / "kept.csv"
    path.write_text("x", encoding="utf-8")
    path.chmod(mode)
    with pytest.raises(files.ReadOnlyFile, match=f"^{re.escape(str(path))}: is read-only"):
        files.check_target(path)
    assert path.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o200])
def test_a_file_its_owner_may_write_is_a_target(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "old.csv"
    path.write_text("x", encoding="utf-8")
    path.chmod(mode)
    assert files.check_target(path) == path


def test_a_read_only_file_is_not_replaced_even_at_the_rename(tmp_path: Path) -> None:
    """Made read-only while the new file was written: the rename (`replace`) refuses too."""
    final, temp = tmp_path / "study.xml", tmp_path / "study.xml.partial"
    final.write_text("old", encoding="utf-8")
    temp.write_text("new", encoding="utf-8")
    final.chmod(0o444)
    with pytest.raises(files.ReadOnlyFile):
        files.replace(temp, final)
    assert final.read_text(encoding="utf-8") == "old"
