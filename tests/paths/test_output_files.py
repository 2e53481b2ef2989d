"""`respine_desktop.files`: why an output cannot be written where it is asked, in one line."""

from __future__ import annotations

from pathlib import Path

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
