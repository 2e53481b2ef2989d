"""`validate --out FILE.pdf --db DB --user NAME --pin-stdin`: the results' SHA-256 e-signed as a
document (meaning performed) in the study database, and the signature block printed in the PDF;
without --user the paper block stays. (The checks themselves are the other tests'; here a fixed
set stands in for them, so the test is about the signature.)"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from respine_desktop import cli, storage
from respine_desktop.cli import validate
from respine_desktop.qualification.check import Check
from tests.support.reports import pdf_text
from tests.support.storage import COORD_PIN, fixed_clock, new_db

CHECKS = [
    Check("IQ-01", "build identity", "a version", "0.1.0", True),
    Check("SCO-01", "published fixtures", "all match", "all 12 match", True),
]


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "study.db"
    fixed_clock()
    new_db(path).close()
    monkeypatch.setattr(
        "respine_desktop.qualification.run_checks", lambda workdir, progress=None: list(CHECKS)
    )
    return path


def run(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str | Path) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.run(["validate", *(str(a) for a in argv)])


@pytest.mark.req("SIG-02")
def test_validate_e_signs_the_results_and_prints_the_signature_block(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "iq-oq.pdf"
    code = run(monkeypatch, COORD_PIN + "\n", "--out", out, "--db", study, "--user", "coord",
               "--pin-stdin")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    with storage.open_database(study, readonly=True) as db:
        (state,) = storage.signature_states(db)
    sig = state.signature
    assert (sig.username, sig.role, sig.meaning, sig.target_kind, state.state) == (
        "coord", "coordinator", "performed", "document", "valid",
    )  # fmt: skip
    assert sig.title == validate.TITLE
    text = " ".join(pdf_text(out).split())
    assert "Performed by (electronic signature)" in text
    assert "Name coord" in text and "Role coordinator" in text
    assert "performed: I performed this qualification" in text
    # the hash printed is the hash signed, and it is the hash of the results shown
    identity = [(k, v) for k, v in validate_identity().items()]
    rows = [(c.requirement, c.title, c.expected, c.observed, c.verdict) for c in CHECKS]
    assert sig.content_sha256 == validate.results_sha256(identity, rows)
    assert sig.content_sha256 in text.replace(" ", "")
    assert sig.signed_at.replace("T", " ")[:16] in text.replace("T", " ")


def validate_identity() -> dict[str, str]:
    from respine_desktop.qualification.installation import build_identity

    return build_identity()


@pytest.mark.req("SIG-05")
def test_paper_form_without_user_and_bad_signing_input_is_one_line_before_the_checks(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "paper.pdf"
    assert run(monkeypatch, "", "--out", out) == 0
    text = pdf_text(out)
    assert "Performed by" in text and "electronic signature" not in text
    assert "I performed this qualification and reviewed its results." in text
    capsys.readouterr()
    bad = [
        ("111111\n", ["--db", study, "--user", "coord", "--pin-stdin"], "wrong PIN for 'coord'"),
        ("", ["--db", study], "give --user NAME too"),
        (COORD_PIN + "\n", ["--user", "coord", "--pin-stdin"], "needs --out FILE.pdf and --db"),
        (COORD_PIN + "\n", ["--db", tmp_path / "none.db", "--user", "coord", "--pin-stdin"],
         "none.db"),
    ]  # fmt: skip
    for stdin, argv, words in bad:
        target = tmp_path / "signed.pdf"
        with_out = ["--out", target] if "needs --out" not in words else []
        assert run(monkeypatch, stdin, *with_out, *argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
        assert not target.exists()
    assert not (tmp_path / "none.db").exists()
    with storage.open_database(study, readonly=True) as db:
        assert storage.list_signatures(db) == []
