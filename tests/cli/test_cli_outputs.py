"""Outputs that are not regular files (devices, named pipes) are refused in one line, untouched."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main, one_line_error

FILE_OUTPUTS = {
    "score": "score --instrument vas {input} --out {out}",
    "export odm": "export odm --db {db} --out {out}",
    "export bundle": "export bundle --db {db} --out {out}",
    "export key": "export key --db {db} --out {out}",
    "report study": "report study --db {db} --out {out}",
    "report patient": "report patient --db {db} --subject RSP-01-001 --out {out}",
    "backup": "backup --db {db} --out {out}",
}
FOLDER_OUTPUTS = {
    "export csv": ("export csv --db {db} --out {out}", "visits_wide.csv"),
    "export redcap": ("export redcap --db {db} --out {out}", "records.csv"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outputs") / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "2").returncode == 0
    (path.parent / "vas.csv").write_text("vas_pain\n50\n", encoding="utf-8")
    return path


def nodes(folder: Path) -> dict[str, Path]:
    """A named pipe, and a link to /dev/full (a rename over the link would replace the link,
    never the device: the test cannot harm the machine even if the refusal were missing)."""
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    link = folder / "full"
    link.symlink_to("/dev/full")
    return {"fifo": fifo, "device": link}


def unchanged(node: Path) -> bool:
    if node.is_symlink():
        return os.readlink(node) == "/dev/full" and stat.S_ISCHR(node.stat().st_mode)
    return stat.S_ISFIFO(node.lstat().st_mode)


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("command", sorted(FILE_OUTPUTS))
def test_a_device_or_pipe_output_is_refused_and_kept(
    demo: Path, tmp_path: Path, command: str, kind: str
) -> None:
    out = nodes(tmp_path)[kind]
    args = FILE_OUTPUTS[command].format(db=demo, out=out, input=demo.parent / "vas.csv")
    result = main(*args.split())
    expected = "exists already" if command == "backup" else "not a file"
    one_line_error(result, 2, expected)
    assert unchanged(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "pipe"]


@pytest.mark.parametrize("command", sorted(FOLDER_OUTPUTS))
def test_a_pipe_among_the_files_of_a_folder_export_is_refused(
    demo: Path, tmp_path: Path, command: str
) -> None:
    template, name = FOLDER_OUTPUTS[command]
    os.mkfifo(tmp_path / name)
    result = main(*template.format(db=demo, out=tmp_path).split())
    one_line_error(result, 2, "is a named pipe, not a file")
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert stat.S_ISFIFO((tmp_path / name).lstat().st_mode)
