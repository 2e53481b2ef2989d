"""The kiosk's options: the fast reading of the plain forms gives exactly what argparse gives,
and everything else (abbreviations, errors, help) is argparse's own answer."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from ui.app import Options, _parse_plain, build_parser, parse_options

PLAIN = [
    [],
    ["--db", "site.db"],
    ["--db=site.db"],
    ["--db="],
    ["--db=-odd.db"],
    ["--db", "a=b.db", "--settings", "kiosk.json"],
    ["--db", "x.db", "--quit-when-ready", "--settings", "/tmp/s.json"],
    ["--windowed", "--idle-seconds", "30"],
    ["--idle-seconds=45", "--windowed", "--quit-when-ready"],
    ["--idle-seconds", " 12 "],
    ["--idle-seconds", "1_0"],
    ["--idle-seconds", "5"],
    ["--db", "one.db", "--db", "two.db"],
    ["--windowed", "--windowed"],
    ["--db", "with space.db"],
]
# Forms left to argparse: abbreviations, values starting with "-", bad values, unknown options.
ARGPARSE_OK = [
    ["--quit", "--db", "x.db"],
    ["--wind"],
    ["--idle-seconds", "-5"],
    ["--idle", "20"],
    ["--set", "s.json"],
]
ARGPARSE_ERRORS = [
    ["--db"],
    ["--db", "--windowed"],
    ["--idle-seconds", "soon"],
    ["--idle-seconds=ten"],
    ["--idle-seconds"],
    ["--windowed=yes"],
    ["--colour", "red"],
    ["--windowed", "extra"],
    ["--", "x"],
]


def argparse_reading(argv: list[str]) -> dict[str, object]:
    return vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", PLAIN)
def test_the_plain_forms_read_as_argparse_reads_them(argv: list[str]) -> None:
    fast = _parse_plain(argv)
    assert fast is not None, "read without argparse"
    assert vars(fast) == argparse_reading(argv)
    assert vars(parse_options(argv)) == argparse_reading(argv)


@pytest.mark.parametrize("argv", ARGPARSE_OK)
def test_the_other_valid_forms_go_to_argparse(argv: list[str]) -> None:
    assert _parse_plain(argv) is None
    options = parse_options(argv)
    assert isinstance(options, Options)
    assert vars(options) == argparse_reading(argv)


@pytest.mark.parametrize("argv", ARGPARSE_ERRORS)
def test_a_bad_option_is_argparse_s_error_exit_2(argv: list[str]) -> None:
    assert _parse_plain(argv) is None
    ours, theirs = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(ours):
        parse_options(argv)
    with pytest.raises(SystemExit) as expected, contextlib.redirect_stderr(theirs):
        build_parser().parse_args(argv)
    assert exc.value.code == expected.value.code == 2
    assert ours.getvalue() == theirs.getvalue()
    assert ours.getvalue().splitlines()[-1].startswith("main.py: error: ")


def test_paths_are_paths_and_defaults_are_none() -> None:
    options = parse_options(["--db", "d.db"])
    assert options.db == Path("d.db")
    assert (options.settings, options.idle_seconds) == (None, None)
    assert not options.quit_when_ready and not options.windowed
