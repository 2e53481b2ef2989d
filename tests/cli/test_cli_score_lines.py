"""`score` names the rule a VAS value breaks and the physical line a bad record starts on."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_score import assert_user_error, run


def test_a_value_between_tenths_breaks_the_step_not_the_range(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("vas_pain\n80.04\n", encoding="utf-8")
    result = run("--instrument", "vas", "in.csv", "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "line 2 (row 1)", "'80.04' is finer than the instrument's step")
    assert "outside" not in result.stderr
    (tmp_path / "in.csv").write_text("vas_pain\n100.04\n", encoding="utf-8")
    result = run("--instrument", "vas", "in.csv", "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "'100.04' is outside 0..100")


def test_a_record_with_line_breaks_is_named_by_the_line_it_starts_on(tmp_path: Path) -> None:
    text = 'note,vas_pain\n"two\nlines",50\n"one line",101\n'
    (tmp_path / "in.csv").write_text(text, encoding="utf-8")
    result = run("--instrument", "vas", "in.csv", "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "line 4 (row 2)", "'101' is outside")
    (tmp_path / "in.csv").write_text('note,vas_pain\n"a\nb\nc",1O\n', encoding="utf-8")
    result = run("--instrument", "vas", "in.csv", "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "line 2 (row 1)", "'1O' is not a number")


def test_a_field_too_long_on_line_2_is_reported_on_line_2(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(f"note,vas_pain\n{'x' * 131_100},50\n", encoding="utf-8")
    result = run("--instrument", "vas", "in.csv", "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "in.csv line 2: not valid CSV", "field larger than field limit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
