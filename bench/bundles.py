"""Benchmark: bundle export + import, format 3 (sealed: encrypted to the hub, signed by the
device) against format 2 (site-key HMAC ZIP), in one run on the same kiosk database.

A kiosk of `--subjects` demo subjects (default 1,000) is made once by the demo generator and
cached in /tmp/respine-bench-bundles/ (delete it to rebuild). For each format: the kiosk writes
its bundle, then a fresh copy of an empty hub imports it (verify + merge); best of `--repeat`
runs. Prints the figures, the ratio format 3 / format 2, and a floor of the same run: AES-256-GCM
and SHA-512 over the bundle's bytes alone (the cost the envelope adds at least once each way).
Asserts nothing. Wrapping keys go to a temporary folder ($RESPINE_KEY_DIR).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CACHE = Path("/tmp/respine-bench-bundles")
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RESPINE_KEY_DIR", tempfile.mkdtemp(prefix="respine-bench-keys-"))
sys.path.insert(0, str(ROOT))


def _kiosk(subjects: int) -> Path:
    from respine_desktop import clock, demo, storage

    path = CACHE / f"kiosk-{subjects}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"  generating a kiosk of {subjects} demo subjects ...", flush=True)
    partial = path.with_name(path.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    clock.set_clock(lambda: datetime(2026, 3, 2, 9, 30, tzinfo=UTC))  # the tests' fixed day
    try:
        with storage.create_database(
            partial, admin_pin=demo.DEMO_ADMIN_PIN, admin_username=demo.DEMO_ADMIN, durable=False
        ) as db:
            demo.generate(db, subjects=subjects, first=1, seed=11)
    finally:
        clock.set_clock(None)
    partial.rename(path)
    return path


def _timed(step: object) -> float:
    started = time.perf_counter()
    step()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from respine_desktop import exports, storage

    work = Path(tempfile.mkdtemp(prefix="respine-bench-bundles-"))
    try:
        kiosk = work / "kiosk.db"
        shutil.copy(_kiosk(args.subjects), kiosk)
        empty_hub = work / "hub-empty.db"
        with storage.create_database(empty_hub, admin_pin="135790", durable=False) as hub:
            exports.write_key_file(hub, work / "site.key")
            exports.write_device_file(hub, work / "hub.pub", role="hub")
        with storage.open_database(kiosk) as db:
            exports.install_key_file(db, work / "site.key")
            exports.write_device_file(db, work / "kiosk.device")
        with storage.open_database(empty_hub) as db:
            exports.enrol_device_file(db, work / "kiosk.device")
        site_key = exports.read_key_file(work / "site.key").key
        results: dict[int, tuple[float, float, int]] = {}
        for version in (2, 3):
            if version == 3:
                with storage.open_database(kiosk) as db:
                    exports.install_hub_file(db, work / "hub.pub")
            best_export = best_import = float("inf")
            out = work / f"format{version}.bundle"
            for _ in range(args.repeat):
                hub = work / "hub.db"
                shutil.copy(empty_hub, hub)

                def write(version: int = version, out: Path = out) -> None:
                    with storage.open_database(kiosk) as db:
                        info = exports.export_bundle(
                            db, out, key=site_key if version == 2 else None
                        )
                    assert info.format_version == version

                def read(hub: Path = hub, out: Path = out) -> None:
                    with storage.open_database(hub) as db:
                        exports.import_bundle(db, out)

                best_export = min(best_export, _timed(write))
                best_import = min(best_import, _timed(read))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{hub}{suffix}").unlink(missing_ok=True)
            results[version] = (best_export, best_import, out.stat().st_size)
        size = results[3][2]
        data = os.urandom(size)
        aead = AESGCM(AESGCM.generate_key(bit_length=256))
        floor = min(
            _timed(lambda: (aead.encrypt(b"\0" * 12, data, None), hashlib.sha512(data).digest()))
            for _ in range(3)
        )
        print(f"bundle export + import, {args.subjects} subjects (best of {args.repeat}):")
        for version, (exp, imp, nbytes) in results.items():
            print(
                f"  format {version}: export {exp:6.2f} s, import {imp:6.2f} s, "
                f"total {exp + imp:6.2f} s, {nbytes / 1e6:6.1f} MB"
            )
        total2 = results[2][0] + results[2][1]
        total3 = results[3][0] + results[3][1]
        print(
            f"  ratio format 3 / format 2: export {results[3][0] / results[2][0]:.2f}x, "
            f"import {results[3][1] / results[2][1]:.2f}x, total {total3 / total2:.2f}x"
        )
        print(
            f"  floor (AES-256-GCM + SHA-512 over {size / 1e6:.1f} MB once): {floor:.3f} s; "
            f"format 3 - format 2: {total3 - total2:+.2f} s (a difference far above the floor is "
            "the machine's noise between runs, not the envelope)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
