"""Treatment arms read from a CSV file after unblinding, for a study summary split by arm.

The application never stores allocation: the file is read when a report is made and only the
report shows the split. Format: a header ``subject_id,arm`` then one line per subject, comma or
semicolon separated, UTF-8 (a BOM is accepted), blank lines ignored. Any problem raises
`ArmsFileError` whose one-line message names the file and the line.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from respine_desktop import files
from respine_desktop.errors import RespineError
from respine_desktop.storage import InvalidInput, check_subject_code

MAX_ARMS = 8
MAX_ARM_LENGTH = 40
HEADER = ("subject_id", "arm")


class ArmsFileError(RespineError, ValueError):
    """The arms file cannot be used; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Arms:
    """Subject code -> arm, the arms in the order they first appear, and where they came from."""

    source: str
    sha256: str
    by_subject: Mapping[str, str]
    names: tuple[str, ...]

    def arm(self, subject_code: str) -> str | None:
        return self.by_subject.get(subject_code)


def read_arms(path: str | Path) -> Arms:
    """Read and check an arms file (see the module docstring)."""
    path = Path(path)
    name = path.name
    files.check_input(path, "arms file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArmsFileError(f"arms file {path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArmsFileError(f"{name} line {line}: not UTF-8 text") from None
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ArmsFileError(f"{name}: empty file (expected a header subject_id,arm)")
    delimiter = ";" if ";" in lines[first] and "," not in lines[first] else ","
    by_subject: dict[str, str] = {}
    seen_on: dict[str, int] = {}
    names: list[str] = []
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        for number, row in enumerate(reader, start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            where = f"{name} line {number}"
            if number == first + 1:
                if tuple(c.lower() for c in cells) != HEADER:
                    raise ArmsFileError(
                        f"{where}: the header must be 'subject_id,arm' (found {','.join(cells)!r})"
                    )
                continue
            if len(cells) != 2:
                raise ArmsFileError(
                    f"{where}: expected 2 columns (subject_id,arm), found {len(cells)}"
                )
            code, arm = cells
            try:
                check_subject_code(code)
            except InvalidInput:
                raise ArmsFileError(
                    f"{where}: subject id {code!r} does not look like RSP-01-023"
                ) from None
            if not arm:
                raise ArmsFileError(f"{where}: subject {code} has no arm")
            if len(arm) > MAX_ARM_LENGTH:
                raise ArmsFileError(f"{where}: arm name longer than {MAX_ARM_LENGTH} characters")
            if code in by_subject:
                raise ArmsFileError(
                    f"{where}: subject {code} is listed twice (first on line {seen_on[code]})"
                )
            if arm not in names:
                if len(names) == MAX_ARMS:
                    raise ArmsFileError(f"{where}: more than {MAX_ARMS} arms")
                names.append(arm)
            by_subject[code] = arm
            seen_on[code] = number
    except csv.Error as exc:
        raise ArmsFileError(f"{name} line {reader.line_num}: {exc}") from None
    if not by_subject:
        raise ArmsFileError(f"{name}: no subject lines after the header")
    return Arms(
        source=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        by_subject=by_subject,
        names=tuple(names),
    )
