"""`score`: score the questionnaires of a CSV file, one per row, and append the score columns."""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import IO

from respine_desktop import files
from respine_desktop.cli import UsageError
from respine_desktop.instruments import Item, instrument_ids

NAME = "score"
HELP = "score questionnaires in a CSV file (one per row, item ids as columns)"
EPILOG = """\
IN.csv has a header row; the columns named after the instrument's items (sf36_01 .. sf36_36,
odi_01 .. odi_10, vas_pain) hold the answers (SF-36: pre-codes 1..k, ODI: 0..5, VAS: 0..100 mm);
a blank cell is unanswered. Other columns are copied unchanged and the score columns appended
(full precision; blank = not computable). Comma, semicolon or tab separated (found from the header).
A bad cell stops the command with exit code 2 and names its line (the physical line its record
starts on), row and column, and the rule it breaks (range, or the VAS's 0.1 mm step: a value is
never rounded); OUT.csv is then left as it was. OUT.csv must be a regular file (a device or a
named pipe is refused, never replaced). Rules and sources: docs/scoring.md."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DELIMITERS = (",", ";", "\t")


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--instrument", required=True, metavar="sf36|odi|vas", help="the questionnaire scored"
    )
    parser.add_argument(
        "--method",
        metavar="standard|rand",
        help="SF-36 only: 'standard' = SF-36 v1 + PCS/MCS (US 1990 norms), 'rand' = RAND-36 1.0 "
        "(default: the study configuration's sf36_reported)",
    )
    parser.add_argument(
        "--min-sections",
        metavar="N",
        help="ODI only: sections that must be answered, 1..10 (default: the study "
        "configuration's odi_min_sections)",
    )
    parser.add_argument("input", metavar="IN.csv", type=Path, help="answers, one row each")
    parser.add_argument(
        "--out", required=True, metavar="OUT.csv", type=Path, help="IN.csv plus the scores"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from respine_desktop import scoring
    from respine_desktop.instruments import load_instrument

    instrument_id: str = args.instrument
    known = instrument_ids()
    if instrument_id not in known:
        raise UsageError(f"unknown instrument {instrument_id!r} (known: {', '.join(known)})")
    method, min_sections = _options(instrument_id, args.method, args.min_sections)
    source: Path = args.input
    out: Path = args.out
    if out.resolve() == source.resolve():
        raise UsageError(f"--out {out} is the input file: write the scores to another file")
    items = {item.id: item for item in load_instrument(instrument_id).items}
    score = scoring.scorer(instrument_id, method, min_sections=min_sections)
    keys = scoring.score_keys(instrument_id, method)
    files.check_input(source, "CSV file to score")
    try:
        infile = source.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        with infile, _replacing(out) as outfile:
            rows = _score_rows(source.name, infile, outfile, instrument_id, items, keys, score)
    except OSError as exc:  # e.g. OUT.csv is a directory, the disk is full
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    label = scoring.label(instrument_id, method)
    print(f"{rows} rows scored ({label}; {scoring.SCORING_VERSION}) -> {out}")
    return 0


def _options(instrument_id: str, method: str | None, minimum: str | None) -> tuple[str | None, int]:
    """The scoring method and ODI minimum: as given, else from the study configuration."""
    from respine_desktop.scoring import registry
    from respine_desktop.scoring.odi import MIN_SECTIONS, SECTIONS
    from respine_desktop.study import StudyConfigError, load_study

    names = registry.method_names(instrument_id)
    if method is not None and not names:
        having = [i for i in registry.registered() if registry.method_names(i)]
        raise UsageError(f"--method applies only to --instrument {' or '.join(having)}")
    if minimum is not None and registry.method(instrument_id).bind is None:
        having = [i for i in registry.registered() if registry.method(i).bind is not None]
        raise UsageError(f"--min-sections applies only to --instrument {' or '.join(having)}")
    min_sections = MIN_SECTIONS  # used only by the ODI
    try:
        # The study configuration's own keys (sf36_reported, odi_min_sections) give the defaults.
        if instrument_id == "sf36" and method is None:
            method = load_study().sf36_reported
        if instrument_id == "odi" and minimum is None:
            min_sections = load_study().odi_min_sections
    except StudyConfigError as exc:
        raise UsageError(f"study configuration: {exc}") from exc
    if method is not None and method not in names:
        raise UsageError(f"--method {method!r} is not {' or '.join(map(repr, names))}")
    if minimum is not None:
        if not _INTEGER.fullmatch(minimum) or not 1 <= int(minimum) <= SECTIONS:
            raise UsageError(f"--min-sections {minimum!r} is not a whole number in 1..{SECTIONS}")
        min_sections = int(minimum)
    return method, min_sections


@contextmanager
def _replacing(out: Path) -> Iterator[IO[str]]:
    """A temporary file beside `out` that replaces it only if the block completes (and only if
    `out` is a regular file: `files.check_target`)."""
    files.check_target(out)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        why = files.no_folder(out.parent) if not out.parent.is_dir() else exc.strerror
        raise UsageError(f"cannot write {out}: {why}") from exc
    try:
        with open(fd, "w", newline="", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        files.replace(Path(temp), out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _score_rows(
    name: str,
    infile: IO[str],
    outfile: IO[str],
    instrument_id: str,
    items: Mapping[str, Item],
    keys: Sequence[str],
    score: Callable[[Mapping[str, object]], Mapping[str, float | None]],
) -> int:
    """Stream IN to OUT row by row; return the number of rows scored."""
    line = 1
    try:
        first = infile.readline()
        if not first.strip():
            raise UsageError(f"{name}: empty file (no header row)")
        delimiter = _delimiter(first, items)
        reader = csv.reader(chain([first], infile), delimiter=delimiter)
        header = next(reader)
        columns = _item_columns(name, header, instrument_id, items)
        clash = [key for key in keys if key in header]
        if clash:
            raise UsageError(f"{name}: already has a column {clash[0]!r}, which the scores add")
        parsers = [(index, item_id, _parser(items[item_id])) for index, item_id in columns]
        writer = csv.writer(outfile, delimiter=delimiter)
        writer.writerow([*header, *keys])
        rows = 0
        while True:
            # The physical line the record starts on (a quoted field may hold line breaks; a
            # record the reader refuses is named by its own line, not the one before it).
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not row:  # a blank line is not a questionnaire
                continue
            rows += 1
            where = f"{name} line {line} (row {rows})"
            if len(row) != len(header):
                raise UsageError(f"{where}: {len(row)} fields, the header has {len(header)}")
            answers: dict[str, object] = {}
            for index, item_id, parse in parsers:
                try:
                    answers[item_id] = parse(row[index])
                except ValueError as exc:
                    raise UsageError(f"{where}, column {item_id}: {exc}") from None
            try:
                scores = score(answers)
            except ValueError as exc:  # pragma: no cover - the parsers already validated
                raise UsageError(f"{where}: {exc}") from None
            writer.writerow([*row, *(_cell(scores[key]) for key in keys)])
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text (after line {line})") from None
    except csv.Error as exc:
        raise UsageError(f"{name} line {line}: not valid CSV ({exc})") from None
    return rows


def _delimiter(header: str, items: Mapping[str, Item]) -> str:
    """The delimiter under which the header names at least one item (else a comma)."""
    for delimiter in _DELIMITERS:
        fields = next(csv.reader([header], delimiter=delimiter), [])
        if any(field.strip() in items for field in fields):
            return delimiter
    return ","


def _item_columns(
    name: str, header: Sequence[str], instrument_id: str, items: Mapping[str, Item]
) -> list[tuple[int, str]]:
    """(column index, item id) of the header's item columns, refusing look-alike names."""
    columns: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(header):
        column = raw.strip()
        if column in items:
            if column in seen:
                raise UsageError(f"{name}: column {column!r} appears twice")
            seen.add(column)
            columns.append((index, column))
        elif column.startswith(f"{instrument_id}_"):
            ids = list(items)
            known = ids[0] if len(ids) == 1 else f"{ids[0]} .. {ids[-1]}"
            raise UsageError(
                f"{name}: column {column!r} is not an item of {instrument_id} ({known}); "
                "rename it if it holds no answers"
            )
    if not columns:
        raise UsageError(
            f"{name}: no {instrument_id} item columns (expected e.g. {next(iter(items))})"
        )
    return columns


def _parser(item: Item) -> Callable[[str], int | float | None]:
    """Cell text -> answer for `item`: a table lookup for the usual cells, else `_parse`."""
    usual: dict[str, int | float | None] = {"": None}
    if item.type == "choice":
        usual.update({str(code): code for code in item.codes})

    def parse(text: str) -> int | float | None:
        return usual[text] if text in usual else _parse(item, text)

    return parse


def _parse(item: Item, text: str) -> int | float | None:
    """Parse and validate one cell; ValueError says what is wrong with it."""
    stripped = text.strip()
    if not stripped:
        return None
    if item.type == "choice":
        if not _INTEGER.fullmatch(stripped):
            raise ValueError(f"{text!r} is not a whole-number code")
        codes = item.codes
        if int(stripped) not in codes:
            raise ValueError(f"{text!r} is not one of the codes {codes[0]}..{codes[-1]}")
        return int(stripped)
    if not _NUMBER.fullmatch(stripped):
        raise ValueError(f"{text!r} is not a number")
    number = float(stripped)
    if not math.isfinite(number) or not item.minimum <= number <= item.maximum:
        raise ValueError(f"{text!r} is outside {item.minimum:g}..{item.maximum:g}")
    try:
        return item.validate(number)
    except ValueError:
        raise ValueError(
            f"{text!r} is finer than the instrument's step of {item.step:g} (never rounded)"
        ) from None


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)
