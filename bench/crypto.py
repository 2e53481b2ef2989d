"""Benchmark: what encryption at rest costs. Not a test: run `python bench/crypto.py
[--subjects N]` (default 10,000; the study is generated once into /tmp/respine-bench-crypto).

Prints, plaintext against encrypted (SQLCipher 4, raw key) in the same run:

1. durable answer-write latency (p50, p95) through `storage.record_answer` (one committed
   transaction with its audit entry, WAL + synchronous=FULL); target: ratio <= 1.5x;
2. `encrypt` of the plaintext study (sqlcipher_export, verified copy, swap);
3. `verify_database` and the CSV export of the whole study; target: ratio <= 1.5x each;
4. start-up: opening the database as the kiosk does, plaintext; encrypted with the key from the
   OS store (file store); encrypted with the site passphrase (scrypt unwrap, then open).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop import demo, exports, storage  # noqa: E402
from respine_desktop.instruments import load_instrument  # noqa: E402
from respine_desktop.storage import _key_store as key_store  # noqa: E402
from respine_desktop.storage._keys import generate_key  # noqa: E402

CACHE = Path("/tmp/respine-bench-crypto")
SUBJECTS = 10_000
WRITES = 300
RATIO_TARGET = 1.5
PASSPHRASE = "benchmark site passphrase"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _writes(path: Path, key: bytes | None) -> list[float]:
    """Milliseconds per `record_answer` (each a new value, so each one writes)."""
    db = storage.create_database(path, admin_pin=demo.DEMO_ADMIN_PIN, key=key)
    admin = storage.authenticate(db, "admin", demo.DEMO_ADMIN_PIN)
    storage.register_subject(db, "RSP-01-001", day0=date.today(), staff=admin)
    session = storage.start_session(db, "RSP-01-001", "M0", staff=admin)
    items = list(load_instrument("odi").items) + list(load_instrument("sf36").items)
    times = []
    for n in range(WRITES):
        item = items[n % len(items)]
        value = item.codes[(n // len(items)) % len(item.codes)]
        start = time.perf_counter()
        storage.record_answer(db, session.id, item.id, value, language="en", position=n % 47)
        times.append((time.perf_counter() - start) * 1000)
    db.close()
    return times


def _ratio_line(what: str, plain: float, encrypted: float, unit: str, target: float) -> None:
    ratio = encrypted / plain if plain else float("inf")
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(
        f"  {what:<28} plaintext {plain:9.2f} {unit}  encrypted {encrypted:9.2f} {unit}  "
        f"ratio {ratio:4.2f}x (target <= {target}x: {verdict})"
    )


def answer_writes(folder: Path) -> None:
    print(f"1. durable answer write, {WRITES} record_answer calls each (alternating halves)")
    plain: list[float] = []
    encrypted: list[float] = []
    key = generate_key()
    for half in range(2):  # alternate, so that a busy moment of the machine hits both
        plain += _writes(folder / f"plain-{half}.db", None)
        encrypted += _writes(folder / f"enc-{half}.db", key)
    for name, p in (("p50", 50), ("p95", 95)):
        _ratio_line(
            f"{name} latency",
            percentile(plain, p),
            percentile(encrypted, p),
            "ms",
            RATIO_TARGET,
        )


def _study(subjects: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"study-{subjects}.db"
    if not path.exists():
        print(f"  generating {subjects} demo subjects (once) ...", flush=True)
        started = time.perf_counter()
        partial = path.with_name(path.name + ".partial")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        with storage.create_database(
            partial,
            admin_pin=demo.DEMO_ADMIN_PIN,
            admin_username=demo.DEMO_ADMIN,
            durable=False,
            plaintext_purpose="demo",
        ) as db:
            demo.generate(db, subjects=subjects, seed=1)
        partial.rename(path)
        print(f"  ... {time.perf_counter() - started:.0f} s", flush=True)
    return path


def _timed(step: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    step(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - start


def _export(path: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    with storage.open_database(path, readonly=True) as db:
        exports.export_csv(db, out)


def study_steps(folder: Path, subjects: int) -> None:
    source = _study(subjects)
    plain = folder / "study-plain.db"
    encrypted = folder / "study-encrypted.db"
    shutil.copyfile(source, plain)
    shutil.copyfile(source, encrypted)
    size = plain.stat().st_size / 1e6
    print(f"2. encrypt the plaintext study of {subjects} subjects ({size:.0f} MB)")
    seconds = _timed(
        storage.encrypt_database, encrypted, PASSPHRASE, recovery_sheet=folder / "sheet.txt"
    )
    print(f"  encrypt (export, verify, swap) {seconds:8.2f} s")
    print("3. verify and CSV export of the whole study (best of 2 each)")
    for what, step in (
        ("verify", lambda p: storage.verify_database(p)),
        ("CSV export", lambda p: _export(p, folder / f"csv-{p.stem}")),
    ):
        times = {p: min(_timed(step, p) for _ in range(2)) for p in (plain, encrypted)}
        _ratio_line(what, times[plain], times[encrypted], "s ", RATIO_TARGET)


def start_up(folder: Path) -> None:
    print("4. start-up: open the database as the kiosk does (median of 5)")
    plain = folder / "start-plain.db"
    encrypted = folder / "start-encrypted.db"
    storage.create_database(plain, admin_pin=demo.DEMO_ADMIN_PIN).close()
    storage.create_encrypted_database(
        encrypted,
        PASSPHRASE,
        recovery_sheet=folder / "start-sheet.txt",
        admin_pin=demo.DEMO_ADMIN_PIN,
        site_code="01",
        remember=True,
    ).close()
    key_id = next(iter(p.stem for p in Path(os.environ["RESPINE_KEY_DIR"]).iterdir()))

    def open_plain() -> None:
        storage.open_database(plain).close()

    def open_stored() -> None:
        key_store.forget_registered(key_id)  # as a new process: the key from the OS store
        storage.open_database(encrypted).close()

    def open_passphrase() -> None:
        key_store.forget_registered(key_id)
        storage.unlock(encrypted, PASSPHRASE)
        storage.open_database(encrypted).close()

    figures = {
        name: statistics.median(_timed(step) for _ in range(5)) * 1000
        for name, step in (
            ("plaintext", open_plain),
            ("encrypted, key from OS store", open_stored),
            ("encrypted, site passphrase", open_passphrase),
        )
    }
    base = figures["plaintext"]
    for name, ms in figures.items():
        print(f"  {name:<30} {ms:8.1f} ms  ({ms / base:5.2f}x plaintext)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=SUBJECTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="respine-bench-crypto-") as tmp:
        folder = Path(tmp)
        os.environ["RESPINE_KEY_DIR"] = str(folder / "keys")
        os.environ["RESPINE_KEY_STORE"] = "file"
        answer_writes(folder)
        study_steps(folder, args.subjects)
        start_up(folder)


if __name__ == "__main__":
    main()
