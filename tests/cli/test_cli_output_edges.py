"""The failure edges sweep 12 left open (issue 12: every failure is one clear line), through real
`python main.py` processes: each refusal is one line on stderr, exit 2, and nothing written or
changed (the output folder's listing with every file's bytes, and the database's data tables and
audit log, compared before and after)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop.cli import build_parser
from respine_desktop.cli._signin import leaf_parsers
from tests.cli.test_cli_hostile_paths import PROGRESS, refused
from tests.support.cli import main_py, signed_in
from tests.support.encryption import key_env
from tests.support.exports import DATA_TABLES, demo_db, table_digest

__all__ = ["key_env"]  # the fixture, imported

SIGN_IN = "login.succeeded"  # the one audit entry a refused signed-in command may add


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edges") / "demo.db"
    demo_db(path, subjects=2, seed=3)
    return path


@pytest.fixture
def db(study: Path, tmp_path: Path) -> Path:
    """A copy of the study of its own, in a folder apart from the outputs."""
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "study.db"
    shutil.copy(study, path)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The folder the outputs are written in (a vas.csv to score in it)."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "vas.csv").write_text("vas_pain\n50\n", encoding="utf-8")
    return folder


def listing(folder: Path) -> dict[str, bytes | None]:
    """Every name under `folder`, with its bytes (None for a folder) and its mode bits."""
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        name = f"{path.relative_to(folder)} {path.lstat().st_mode:o}"
        found[name] = None if path.is_dir() else path.read_bytes()
    return found


class State:
    """What a refused command must leave as it was: the output folder, the data tables and the
    audit log (which may gain its sign-in only)."""

    def __init__(self, db: Path, folder: Path) -> None:
        self.db, self.folder = db, folder
        self.files = listing(folder)
        self.tables = table_digest(db, DATA_TABLES)
        self.audit = self._audit()

    def _audit(self) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT action, * FROM audit_log ORDER BY rowid").fetchall()
        finally:
            conn.close()

    def unchanged(self) -> None:
        assert listing(self.folder) == self.files
        assert table_digest(self.db, DATA_TABLES) == self.tables
        audit = self._audit()
        assert audit[: len(self.audit)] == self.audit
        assert {row[0] for row in audit[len(self.audit) :]} <= {SIGN_IN}, audit[len(self.audit) :]


PASSPHRASE = "correct horse battery staple 42"


def run(template: str, **names: Path) -> subprocess.CompletedProcess[str]:
    """`template` run signed in where it needs it (a new encrypted database's passphrase on
    standard input for `init`)."""
    argv = template.format(**names).split()
    if argv[0] == "init":
        return main_py(*argv, stdin=f"{PASSPHRASE}\n", timeout=300)
    return main_py(*argv, timeout=300)


# Every command that writes a file or a folder the user names, the name as {target}.
OUTPUTS = {
    "score": "score --instrument vas {out}/vas.csv --out {target}",
    "export csv": "export csv --db {db} --out {target}",
    "export odm": "export odm --db {db} --out {target}",
    "export redcap": "export redcap --db {db} --out {target}",
    "export stats": "export stats --db {db} --out {target}",
    "export bundle": "export bundle --db {db} --out {target}",
    "export key": "export key --db {db} --out {target}",
    "export device": "export device --db {db} --out {target}",
    "report study": "report study --db {db} --out {target}",
    "report patient": "report patient --db {db} --subject RSP-01-001 --out {target}",
    "backup": "backup --db {db} --out {target}",
    "import bundle --receipt": "import bundle --db {db} --receipt {target} {out}/vas.csv",
    "init --recovery-sheet": "init --db {out}/new.db --admin-pin 572913 --passphrase-stdin "
    "--recovery-sheet {target}",
}


@pytest.mark.parametrize("depth", ["x.out", "sub/x.out"])
@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_an_output_under_a_regular_file_names_the_file_not_a_missing_folder(
    db: Path, out: Path, command: str, depth: str
) -> None:
    """`--out notes.txt/x.pdf` said 'notes.txt: no such directory' (ENOTDIR: the folder is a
    file); also with a name under a name under the file."""
    (out / "notes.txt").write_text("a file\n", encoding="utf-8")
    before = State(db, out)
    result = run(OUTPUTS[command], db=db, out=out, target=out / "notes.txt" / depth)
    refused(result, f"{out / 'notes.txt'}: is a file, not a folder")
    before.unchanged()


@pytest.mark.parametrize("command", ["init --plaintext --admin-pin 572913", "demo", "--windowed"])
def test_a_new_database_under_a_regular_file_names_the_file(out: Path, command: str) -> None:
    """`init`, `demo` and the kiosk itself (`--windowed`: it stops before any window)."""
    (out / "notes.txt").write_text("a file\n", encoding="utf-8")
    before = listing(out)
    result = main_py(*command.split(), "--db", out / "notes.txt" / "new.db", timeout=300)
    refused(result, f"{out / 'notes.txt'}: is a file, not a folder")
    assert listing(out) == before


# An existing output file of each command (for a folder export, one of its files in the folder).
REPLACED = {
    "score": ("score --instrument vas {out}/vas.csv --out {target}", "scored.csv", ""),
    "export csv": ("export csv --db {db} --out {target}", "csv", "visits_wide.csv"),
    "export odm": ("export odm --db {db} --out {target}", "study.xml", ""),
    "export redcap": ("export redcap --db {db} --out {target}", "redcap", "records.csv"),
    "export stats": ("export stats --db {db} --out {target}", "stats", "visits_wide.sav"),
    "export bundle": ("export bundle --db {db} --out {target}", "site.bundle", ""),
    "export device": ("export device --db {db} --out {target}", "device.json", ""),
    "report study": ("report study --db {db} --out {target}", "study.pdf", ""),
    "report patient": (
        "report patient --db {db} --subject RSP-01-001 --out {target}",
        "patient.pdf",
        "",
    ),
    "import bundle --receipt": (
        "import bundle --db {db} --receipt {target} {out}/vas.csv",
        "receipt.json",
        "",
    ),
}


@pytest.mark.parametrize("command", sorted(REPLACED))
def test_a_read_only_output_file_is_refused_not_replaced(db: Path, out: Path, command: str) -> None:
    """A file someone made read-only (0444) was replaced by the rename of every export and
    report (a rename asks only the folder's permission, and root is asked none)."""
    template, name, inside = REPLACED[command]
    target = out / name
    protected = target / inside if inside else target
    protected.parent.mkdir(exist_ok=True)
    protected.write_bytes(b"kept as it is\n")
    protected.chmod(0o444)
    before = State(db, out)
    result = run(template, db=db, out=out, target=target)
    refused(result, f"{protected}: is read-only")
    before.unchanged()


@pytest.fixture
def encrypted(tmp_path: Path, key_env: Path) -> Path:
    """A new encrypted database whose key is stored nowhere: every command needs its passphrase
    (`key_env`: a key store of this test's own, empty)."""
    path = tmp_path / "db" / "site.db"
    path.parent.mkdir()
    made = run(
        "init --db {db} --admin-pin 572913 --passphrase-stdin --recovery-sheet {sheet}",
        db=path,
        sheet=tmp_path / "db" / "sheet.txt",
    )
    assert made.returncode == 0, made.stderr
    return path


# Commands of two words (the option after the second, or between its options), and one with it
# before the second word, as it was taken so far.
AFTER = {
    "export csv": "export csv --db {db} --out {out}/csv --passphrase-stdin",
    "export odm": "export odm --passphrase-stdin --db {db} --out {out}/study.xml",
    "export redcap": "export redcap --db {db} --out {out}/redcap --passphrase-stdin",
    "report study": "report study --db {db} --out {out}/study.pdf --passphrase-stdin",
    "list devices": "list devices --db {db} --passphrase-stdin",
    "signatures": "signatures --db {db} --passphrase-stdin",
    "export --passphrase-stdin odm": "export --passphrase-stdin odm --db {db} --out {out}/s.xml",
}


def with_passphrase(
    template: str, passphrase: str, **names: Path
) -> subprocess.CompletedProcess[str]:
    """`template` with the passphrase on standard input's first line, the PIN on the next."""
    argv, pin = signed_in(template.format(**names).split(), pin="572913")
    return main_py(*argv, sign_in=False, stdin=f"{passphrase}\n{pin or ''}", timeout=300)


@pytest.mark.parametrize("command", sorted(AFTER))
def test_the_passphrase_option_is_taken_after_the_subcommand(
    encrypted: Path, out: Path, command: str
) -> None:
    """`export csv --passphrase-stdin` was 'unrecognized arguments' (the option was given to
    `export`, not to `export csv`)."""
    result = with_passphrase(AFTER[command], PASSPHRASE, db=encrypted, out=out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["export csv", "report study"])
def test_a_wrong_passphrase_after_the_subcommand_is_one_line(
    encrypted: Path, out: Path, command: str
) -> None:
    before = listing(out)
    result = with_passphrase(AFTER[command], "not the passphrase at all", db=encrypted, out=out)
    refused(result, "wrong passphrase or key")
    assert listing(out) == before


def test_every_command_documents_and_takes_the_passphrase_option() -> None:
    """On every command's own parser (its --help), wherever the command has a second word."""
    parser = build_parser()
    for key, leaf in leaf_parsers(parser):
        if key:
            assert "--passphrase-stdin" in leaf.format_help(), key
    for argv in (
        ["export", "csv", "--db", "d", "--out", "o", "--passphrase-stdin"],
        ["export", "--passphrase-stdin", "csv", "--db", "d", "--out", "o"],
        ["status", "--db", "d", "--passphrase-stdin"],
    ):
        assert parser.parse_args(argv).passphrase_stdin is True, argv
    assert getattr(parser.parse_args(["status", "--db", "d"]), "passphrase_stdin", False) is False


def tamper(db: Path) -> None:
    """A subject's day 0 changed behind the program's back (no trigger guards that column; its
    audit entry still holds the old date): `verify` fails on the file."""
    with sqlite3.connect(db) as conn:  # (a plaintext test file: any SQLite opens it)
        conn.execute("UPDATE subjects SET day0='2020-01-01' WHERE rowid=1")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_backup_of_a_database_that_fails_verification_is_refused(db: Path, out: Path) -> None:
    """It was exit 1 ('the backup copy failed verification'), as for data checked and found
    wrong; a backup refused is exit 2 like every refusal, and names `verify`."""
    tamper(db)
    assert main_py("verify", "--db", db).returncode == 1
    before = State(db, out)
    result = run("backup --db {db} --out {target}", db=db, target=out / "copy.db")
    refused(result, f"{out / 'copy.db'}: not written: the copy of {db} fails verification")
    assert f"'verify --db {db}'" in result.stderr
    before.unchanged()
    assert {p.name for p in db.parent.iterdir()} <= {"study.db", "study.db-wal", "study.db-shm"}


@contextlib.contextmanager
def small_disk(folder: Path, left: int) -> Iterator[Path]:
    """`folder` on a 64 KiB file system of its own with `left` bytes free (mounted as root;
    the test is skipped, saying why, where it cannot be), unmounted afterwards."""
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]
    made = subprocess.run(mount, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here: {made.stderr.strip() or made}")
    try:
        (folder / "filler").write_bytes(b"\0" * (64 * 1024 - left))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """12 KiB left: a bundle (some 30 KiB) starts, then the disk is full."""
    with small_disk(tmp_path / "full", 12 * 1024) as folder:
        yield folder


@pytest.fixture
def no_space(tmp_path: Path) -> Iterator[Path]:
    """Nothing left: a file is made, its first bytes refused."""
    with small_disk(tmp_path / "full", 0) as folder:
        yield folder


@pytest.fixture
def hub_key(tmp_path: Path) -> Path:
    """A hub's key file: installed on a kiosk, its bundles are sealed (format 3) and signed by
    its device keys, made at its first bundle."""
    hub = tmp_path / "hub" / "hub.db"
    hub.parent.mkdir()
    demo_db(hub, subjects=1, seed=4)  # a device of its own
    made = run("export hub-key --db {hub} --out {key}", hub=hub, key=hub.parent / "hub.json")
    assert made.returncode == 0, made.stderr
    return hub.parent / "hub.json"


@pytest.mark.parametrize("sealed", [False, True], ids=["site key", "device keys"])
def test_a_bundle_on_a_disk_that_fills_leaves_the_database_without_its_new_keys(
    db: Path, full_disk: Path, hub_key: Path, sealed: bool
) -> None:
    """The site key (or a sealed bundle's device keys), made at the first bundle once its file
    is open, stayed in the database (audited) when the disk filled and no bundle was written."""
    if sealed:
        installed = run("import hub-key --db {db} {key}", db=db, key=hub_key)
        assert installed.returncode == 0, installed.stderr
    before = State(db, full_disk)
    result = run("export bundle --db {db} --out {target}", db=db, target=full_disk / "b.bundle")
    refused(result, f"{full_disk / 'b.bundle'}: No space left on device")
    before.unchanged()
    again = run("export bundle --db {db} --out {target}", db=db, target=db.parent / "b.bundle")
    assert again.returncode == 0, again.stderr  # the keys made then, with the bundle


@pytest.mark.parametrize(
    "command", ["export key", "export device"], ids=["site key", "device keys"]
)
def test_a_key_file_on_a_full_disk_leaves_no_file_and_no_new_key(
    db: Path, no_space: Path, command: str
) -> None:
    """`export key` left an empty site.key (its retry then said 'exists already') and, like
    `export device`, the keys it made in the database."""
    before = State(db, no_space)
    result = run(f"{command} --db {{db}} --out {{target}}", db=db, target=no_space / "k.json")
    refused(result, f"{no_space / 'k.json'}: No space left on device")
    before.unchanged()


FILLS = {
    "score": "score --instrument vas {vas} --out {target}/scored.csv",
    "export csv": "export csv --db {db} --out {target}/csv",
    "export odm": "export odm --db {db} --out {target}/study.xml",
    "export redcap": "export redcap --db {db} --out {target}/redcap",
    "export stats": "export stats --db {db} --out {target}/stats",
    "report study": "report study --db {db} --out {target}/study.pdf",
    "report patient": "report patient --db {db} --subject RSP-01-001 --out {target}/p.pdf",
    "backup": "backup --db {db} --out {target}/copy.db",
}


@pytest.mark.parametrize("left", [0, 4, 16], ids=lambda k: f"{k} KiB left")
@pytest.mark.parametrize("command", sorted(FILLS))
def test_an_output_on_a_disk_that_fills_is_one_line_and_leaves_nothing(
    db: Path, out: Path, tmp_path: Path, command: str, left: int
) -> None:
    """`export stats` ended in pyreadstat's traceback ('Unable to write data', exit 1);
    `export redcap` left its folder with the .partial files completed before the disk filled."""
    with small_disk(tmp_path / "small", left * 1024) as folder:
        before = State(db, folder)
        result = run(FILLS[command], db=db, target=folder, vas=out / "vas.csv")
        if command == "score" and result.returncode == 0:
            return  # (its one line of output fits in what is left)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if not PROGRESS.match(line)]
        assert len(lines) == 1, result.stderr
        assert "No space left on device" in lines[0] or "disk is full" in lines[0], lines
        assert "Traceback" not in result.stderr
        before.unchanged()
