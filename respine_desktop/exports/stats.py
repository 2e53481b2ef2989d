"""Labelled datasets for SPSS, Stata and SAS, with R and SAS read-in scripts (`export_stats`).

``visits_wide`` and ``answers_long`` (the CSV export's rows and columns, same rules) are written
as ``.sav`` (SPSS), ``.dta`` (Stata 14+, format 118) and ``.xpt`` (SAS XPORT version 5, with
``read_stats.sas``, which applies the value labels and the special missing values), plus
``read_stats.R`` (R, through haven, labels and missing codes kept) and ``stats_names.csv`` (the
name mapping, see `stats_names`). Written through `pyreadstat` (ReadStat).

Each file carries variable labels (the codebook's descriptions, shortened where the format
limits them), value labels for every coded column (item options, flags) and the missing codes
of `missing_codes` as real missing values of the format: SPSS user-missing -9991 to -9997 (range
-9999 to -9991, each code labelled), Stata extended missing ``.s .n .m .u .d .i .w`` (labelled),
SAS ``.S .N .M .U .D .I`` (the XPORT file holds the SPSS codes; the read-in script converts them
and formats them).

The files are written complete as ``<name>.partial`` and replaced as a set, journalled like the
CSV files. pyreadstat opens the name it is given itself, following a link, so it writes into a
folder inside the export folder that only this user may write into (`private_folders`), and each
finished file is moved out of it; one left by an export that was killed is removed by a later
one (`private_folders.remove_abandoned`). pandas and pyreadstat are imported only when the
export runs.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from respine_desktop import files, private_folders, schedule
from respine_desktop.exports.codebook import (
    MISSING_CODES,
    Column,
    answers_long_columns,
    item_instruments,
)
from respine_desktop.exports.codebook import visits_wide_columns as wide_columns
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import output_folder, partial_path
from respine_desktop.exports.missing_codes import (
    MISSING_RANGE,
    MissingCode,
    visit_number,
    wide_head,
    wide_values,
)
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.exports.stats_names import (
    DTA_LABEL,
    SAV_LABEL,
    XPT_LABEL,
    XPT_TABLES,
    check_names,
    short_label,
    xpt_name,
)
from respine_desktop.exports.stats_scripts import r_script, sas_script
from respine_desktop.exports.subject_parts import finish_interrupted_set, replace_set
from respine_desktop.exports.visit_values import visit_values
from respine_desktop.storage import StudyDb, read_snapshot
from respine_desktop.storage.export_reads import count_subject_records, iter_subject_records

TABLES = ("visits_wide", "answers_long")
# answers_long columns the statistics files leave to the CSV: the option text (the codebook and
# visits_wide's value labels have it) and the instrument file's checksum (its version is kept).
# Fixed-width text in these formats would make them the bulk of every file.
LONG_ONLY_IN_CSV = ("label", "instrument_checksum")
NAMES_FILE = "stats_names.csv"
# the private folder pyreadstat writes into: its name's prefix and suffix
_PRIVATE = (".stats-", ".partial")
SAS_SCRIPT = "read_stats.sas"
R_SCRIPT = "read_stats.R"
XPT_TEXT = 200  # bytes: the longest character value of an XPORT v5 file


@dataclass(frozen=True)
class StatsExport:
    """What `export_stats` wrote."""

    directory: Path
    files: tuple[Path, ...]
    subjects: int
    visit_rows: int
    answer_rows: int


@dataclass(frozen=True)
class Variable:
    """One column as the statistics files hold it."""

    column: Column
    kind: str  # "number", "string" or "date"

    @property
    def value_labels(self) -> dict[float, str]:
        """Labels of the column's numeric codes (item options, flags), missing codes excluded."""
        if self.kind != "number":
            return {}
        out: dict[float, str] = {}
        for code, label in self.column.codes:
            if code.startswith("."):
                continue
            try:
                out[float(code)] = label
            except ValueError:
                continue
        return out

    @property
    def has_missing_codes(self) -> bool:
        return any(code.startswith(".") for code, _ in self.column.codes)


def _kind(c: Column) -> str:
    if c.type.startswith("date ("):
        return "date"
    if c.type in ("integer", "decimal", "flag", "number") or (
        c.type == "code" and c.codes and c.codes[0][0].lstrip("-").isdigit()
    ):
        return "number"
    return "string"


def table_variables(study: Any) -> dict[str, list[Variable]]:
    """The variables of each table, in the CSV's column order."""
    long = [
        # a skipped answer's code is the skipped code here (the CSV leaves it empty)
        dataclasses.replace(c, codes=MISSING_CODES[:1]) if c.name == "code" else c
        for c in answers_long_columns()
        if c.name not in LONG_ONLY_IN_CSV
    ]
    out = {
        "visits_wide": [Variable(c, _kind(c)) for c in wide_columns(study)],
        "answers_long": [Variable(c, _kind(c)) for c in long],
    }
    for variables in out.values():
        check_names(v.column.name for v in variables)
    return out


def export_stats(db: StudyDb, out: str | Path, *, progress: Progress | None = None) -> StatsExport:
    """Write the SPSS, Stata and SAS files of both tables and the read-in scripts into `out`."""
    with output_folder(Path(out)) as directory:
        finish_interrupted_set(directory)
        private_folders.remove_abandoned(directory, *_PRIVATE)  # (a killed export's)
        variables = table_variables(db.study)
        finals = [directory / f"{t}.{ext}" for t in TABLES for ext in ("sav", "dta", "xpt")]
        finals += [directory / NAMES_FILE, directory / SAS_SCRIPT, directory / R_SCRIPT]
        for path in finals:
            if files.check_target(path).is_dir():
                raise ExportError(f"{path}: is a directory")
        on = schedule.today()
        with read_snapshot(db):
            total = count_subject_records(db)
            ticker = Ticker(progress, total, "stats export")
            wide, long, subjects = _read_tables(db, on, ticker)
        partials = [partial_path(f) for f in finals]
        try:
            ticker.checkpoint("writing SPSS, Stata and SAS files")
            with private_folders.private(directory, *_PRIVATE) as private:
                for table, rows in (("visits_wide", wide), ("answers_long", long)):
                    with _writer_errors(directory, table):
                        _write_table(directory, private, table, variables[table], rows)
            _write_text(directory / NAMES_FILE, _names_csv(variables))
            _write_text(directory / SAS_SCRIPT, sas_script(variables))
            _write_text(directory / R_SCRIPT, r_script(variables))
            ticker.checkpoint("replacing the files")
            replace_set(list(zip(partials, finals, strict=True)))
        finally:
            for p in partials:
                p.unlink(missing_ok=True)
        ticker.done(f"stats export: {subjects} subjects written to {directory}")
        return StatsExport(directory, tuple(finals), subjects, len(wide[0]), len(long[0]))


Columns = list[list[Any]]


def _read_tables(db: StudyDb, on: date, ticker: Ticker) -> tuple[Columns, Columns, int]:
    """Both tables as columns of Python values (missing values as `MissingCode`)."""
    study = db.study
    items = item_instruments(study)
    n_wide = len(wide_columns(study))
    wide: Columns = [[] for _ in range(n_wide)]
    long: Columns = [[] for c in answers_long_columns() if c.name not in LONG_ONLY_IN_CSV]
    subjects = 0
    for record in iter_subject_records(db, on=on, history=False):
        visits = list(visit_values(study, record))
        for v in visits:
            for k, value in enumerate(
                [*wide_head(study, record, v), *wide_values(study, items, v)]
            ):
                wide[k].append(value)
        counted = {a.id for v in visits if v.session is not None for a in v.answers.values()}
        visit_of = {s.id: s.visit_code for s in record.sessions}
        replaced: dict[str, str] = {}
        for a in record.answers:
            if a.supersedes is not None:
                prior = replaced.get(a.supersedes)
                replaced[a.supersedes] = f"{prior} {a.id}" if prior else a.id
        code = record.subject.code
        for a in record.answers:
            visit = visit_of.get(a.session_id, "")
            row = (
                code,
                visit,
                visit_number(study, visit),
                a.instrument_id,
                a.instrument_version,
                a.item_id,
                MissingCode.SKIPPED if a.status == "skipped" else a.value,
                a.language,
                a.device_id,
                a.session_id,
                a.given_at,
                replaced.get(a.id, ""),
                a.id in counted,
                a.reason or "",
                a.id,
                a.status,
                a.given_by or "",
            )
            for k, value in enumerate(row):
                long[k].append(value)
        subjects += 1
        ticker.tick(subjects, code)
    return wide, long, subjects


def _numbers(values: list[Any], fmt: str) -> Any:
    """A numeric column: missing codes as the format's (Stata letters make it an object
    column), None as NaN, flags 1.0 / 0.0."""
    import pandas as pd

    if fmt == "dta":
        codes: dict[object, object] = {m: m.letter for m in MissingCode}
    else:
        codes = {m: float(m.numeric) for m in MissingCode}
    codes[None] = math.nan
    converted = [codes.get(v, v) for v in values]
    if fmt == "dta" and any(isinstance(v, MissingCode) for v in values):
        mixed = [v if isinstance(v, str) else float(cast(float, v)) for v in converted]
        return pd.Series(mixed, dtype=object)
    return pd.Series(converted, dtype="float64")


def _strings(values: list[Any], limit: int | None) -> Any:
    """A text column ('' for None); cut to `limit` UTF-8 bytes when given."""
    import pandas as pd

    out = [v if v.__class__ is str else "" if v is None else str(v) for v in values]
    if limit is not None:
        out = [
            v
            if len(v) * 4 <= limit or len(v.encode("utf-8")) <= limit
            else v.encode("utf-8")[:limit].decode("utf-8", "ignore")
            for v in out
        ]
    return pd.Series(out, dtype=object)


def _frame(variables: Sequence[Variable], columns: Columns, fmt: str) -> Any:
    """A pandas DataFrame of the table for one format ("sav", "dta" or "xpt")."""
    import pandas as pd

    data: dict[str, Any] = {}
    for variable, values in zip(variables, columns, strict=True):
        name = variable.column.name if fmt != "xpt" else xpt_name(variable.column.name)
        if variable.kind == "number":
            data[name] = _numbers(values, fmt)
        elif variable.kind == "date":
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = _strings(values, XPT_TEXT if fmt == "xpt" else None)
    return pd.DataFrame(data)


def _write_table(
    directory: Path, private: Path, table: str, variables: Sequence[Variable], rows: Columns
) -> None:
    """The three files of `table`, each written by pyreadstat into `private` (`private_folders`)
    and moved to its ``.partial`` in `directory` once complete (`_moved`)."""
    import pyreadstat

    names = [v.column.name for v in variables]
    numeric = [v for v in variables if v.kind == "number"]
    # SPSS
    frame = _frame(variables, rows, "sav")
    sav_labels: dict[str, dict[float, str]] = {}
    for v in numeric:
        labels: dict[float, str] = dict(v.value_labels)
        if v.has_missing_codes:
            labels.update({float(m.numeric): m.label for m in MissingCode})
        if labels:
            sav_labels[v.column.name] = labels
    target = private / f"{table}.sav"
    pyreadstat.write_sav(
        frame,
        target,
        row_compress=True,
        file_label=f"RESPINE {table}",
        column_labels=[short_label(v.column.description, SAV_LABEL) for v in variables],
        variable_value_labels=sav_labels,
        missing_ranges={
            v.column.name: [{"lo": float(MISSING_RANGE[0]), "hi": float(MISSING_RANGE[1])}]
            for v in numeric
            if v.has_missing_codes
        },
    )
    _moved(target, directory)
    del frame
    # Stata
    frame = _frame(variables, rows, "dta")
    dta_labels: dict[str, dict[int | float | str, str]] = {}
    dta_missing: dict[str, list[str]] = {}
    for v in numeric:
        d_labels: dict[int | float | str, str] = {
            int(k) if k.is_integer() else k: t for k, t in v.value_labels.items()
        }
        if v.has_missing_codes:
            d_labels.update({m.letter: m.label for m in MissingCode})
            dta_missing[v.column.name] = [m.letter for m in MissingCode]
        if d_labels:
            dta_labels[v.column.name] = d_labels
    target = private / f"{table}.dta"
    pyreadstat.write_dta(
        frame,
        target,
        file_label=f"RESPINE {table}",
        column_labels=[short_label(v.column.description, DTA_LABEL) for v in variables],
        version=14,
        variable_value_labels=dta_labels,  # type: ignore[arg-type]
        missing_user_values=dta_missing,
    )
    _moved(target, directory)
    del frame
    # SAS XPORT v5
    frame = _frame(variables, rows, "xpt")
    target = private / f"{table}.xpt"
    pyreadstat.write_xport(
        frame,
        target,
        file_label=f"RESPINE {table}",
        column_labels=[short_label(v.column.description, XPT_LABEL) for v in variables],
        table_name=XPT_TABLES[table],
        file_format_version=5,
    )
    _moved(target, directory)
    assert len(names) == len(variables)


_FULL = 1 << 20  # bytes free under which a write the statistics writer refused is a full disk


@contextlib.contextmanager
def _writer_errors(directory: Path, table: str) -> Iterator[None]:
    """pyreadstat's failure to write a file of `table` (``ReadstatError: Unable to write data``,
    a traceback; the errno of its C write is not kept) as one line: with less than 1 MiB left
    in `directory` a full disk (ENOSPC, named as every export names it), otherwise the
    writer's own words naming the table."""
    import pyreadstat

    try:
        yield
    except pyreadstat.ReadstatError as exc:
        if shutil.disk_usage(directory).free < _FULL:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory)) from None
        raise ExportError(f"{directory}: cannot write the {table} files ({exc})") from None


def _moved(written: Path, directory: Path) -> None:
    """The finished file `written` (in the private folder) made durable and renamed to its
    ``.partial`` in `directory`, whatever is at that name (a planted link: replaced, its target
    untouched)."""
    _fsync(written)
    os.replace(written, partial_path(directory / written.name))


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _write_text(path: Path, text: str) -> None:
    target = partial_path(path)
    with files.open_new(target, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _names_csv(variables: dict[str, list[Variable]]) -> str:
    import io

    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(("table", "column", "sav", "dta", "xpt", "label"))
    for table, vs in variables.items():
        for v in vs:
            name = v.column.name
            out.writerow((table, name, name, name, xpt_name(name), v.column.description))
    return buffer.getvalue()
