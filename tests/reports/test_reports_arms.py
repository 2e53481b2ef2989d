"""Arms files (subject_id,arm after unblinding): read when a report is made, every problem named
with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from respine_desktop.reports import ArmsFileError, read_arms


def _file(tmp_path: Path, text: str | bytes, name: str = "arms.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reads_arms_in_order_of_appearance(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "\ufeffSubject_ID , Arm\nRSP-01-002,Sham\n\nRSP-01-001 , MSC\nRSP-01-003,Sham\n",
    )
    arms = read_arms(path)
    assert arms.names == ("Sham", "MSC")
    assert arms.arm("RSP-01-001") == "MSC"
    assert arms.arm("RSP-01-009") is None
    assert arms.source == "arms.csv"
    assert len(arms.sha256) == 64


def test_semicolon_separated(tmp_path: Path) -> None:
    arms = read_arms(_file(tmp_path, "subject_id;arm\nRSP-01-001;A\n"))
    assert dict(arms.by_subject) == {"RSP-01-001": "A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "arms.csv: empty file"),
        ("id,group\nRSP-01-001,A\n", "arms.csv line 1: the header must be 'subject_id,arm'"),
        ("subject_id,arm\n", "arms.csv: no subject lines after the header"),
        ("subject_id,arm\nRSP-01-001,A\nRSP-01-002\n", "arms.csv line 3: expected 2 columns"),
        ("subject_id,arm\nRSP-01-001,A,x\n", "arms.csv line 2: expected 2 columns"),
        ("subject_id,arm\nJohn Smith,A\n", "arms.csv line 2: subject id 'John Smith' does not"),
        ("subject_id,arm\nRSP-01-001,\n", "arms.csv line 2: subject RSP-01-001 has no arm"),
        (
            "subject_id,arm\nRSP-01-001,A\n\nRSP-01-001,B\n",
            "arms.csv line 4: subject RSP-01-001 is listed twice (first on line 2)",
        ),
        (
            "subject_id,arm\n" + "".join(f"RSP-01-{i:03d},arm{i}\n" for i in range(1, 10)),
            "arms.csv line 10: more than 8 arms",
        ),
        ('subject_id,arm\nRSP-01-001,"A\n', "arms.csv line 2:"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ArmsFileError) as info:
        read_arms(_file(tmp_path, text))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = _file(tmp_path, b"subject_id,arm\nRSP-01-001,Plac\xe9bo\n")
    with pytest.raises(ArmsFileError, match=r"^arms.csv line 2: not UTF-8 text$"):
        read_arms(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArmsFileError, match="cannot read"):
        read_arms(tmp_path / "nope.csv")
