"""Benchmark: the cost of one PIN guess. Not a test: run `python bench/pins.py`.

Prints the time one scrypt check of a staff PIN takes with the parameters the application uses
(`respine_desktop.storage._staff.SCRYPT_N`, `SCRYPT_R`, `SCRYPT_P`; target >= 100 ms on this
machine), the same for the parameters of earlier versions (N = 2**14) as the floor measured in
the same run, their ratio, and what an offline search of every 6-digit PIN would cost on one
core at the measured rate. Each figure is the median of several checks.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from respine_desktop.storage import _staff as staff  # noqa: E402

TARGET_MS = 100.0
RUNS = 7
OLD_N = 2**14


def check_ms(n: int, r: int, p: int) -> float:
    """Median milliseconds of one scrypt check of a 6-digit PIN with these parameters."""
    times = []
    for i in range(RUNS):
        start = time.perf_counter()
        hashlib.scrypt(
            f"{482915 + i}".encode(),
            salt=b"0123456789abcdef",
            n=n,
            r=r,
            p=p,
            dklen=staff.SCRYPT_LEN,
            maxmem=staff.SCRYPT_MAXMEM,
        )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def sign_in_ms() -> float:
    """Median milliseconds of `pin_matches` on a hash made by `hash_pin` (what a sign-in pays)."""
    stored = staff.hash_pin("482915")
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        assert staff.pin_matches("482915", stored)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    old = check_ms(OLD_N, 8, 1)
    now = check_ms(staff.SCRYPT_N, staff.SCRYPT_R, staff.SCRYPT_P)
    signed = sign_in_ms()
    memory = 128 * staff.SCRYPT_N * staff.SCRYPT_R // 2**20
    print(
        f"scrypt N={staff.SCRYPT_N} r={staff.SCRYPT_R} p={staff.SCRYPT_P} ({memory} MiB): "
        f"{now:.0f} ms per guess (target >= {TARGET_MS:.0f} ms); pin_matches {signed:.0f} ms"
    )
    print(f"floor, earlier parameters N={OLD_N} r=8 p=1: {old:.0f} ms; ratio {now / old:.2f}x")
    days = 10**6 * now / 1000 / 86400
    print(
        f"every 6-digit PIN offline on one core: {days:.1f} days (4-digit, old: "
        f"{10**4 * old / 1000:.0f} s)"
    )
    ok = now >= TARGET_MS
    print("OK" if ok else f"BELOW TARGET: {now:.0f} ms < {TARGET_MS:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
