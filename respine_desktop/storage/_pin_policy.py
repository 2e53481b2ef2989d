"""The staff PIN policy: 6-12 digits, no sequence, no repeat, none of the most common PINs.

`check_pin_policy` is applied where a PIN is chosen (a new account, a reset, a change); signing
in accepts any PIN that matches its hash, so an older 4-digit PIN still works until it is
changed (`pin_breaks_policy` tells the caller to ask for a new one). The list of common PINs is
``resources/security/common_pins.txt`` (its header names its sources).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

from respine_desktop.paths import resource
from respine_desktop.storage._errors import InvalidInput

PIN_MIN, PIN_MAX = 6, 12
PIN_FORMAT = re.compile(rf"^[0-9]{{{PIN_MIN},{PIN_MAX}}}\Z")
PIN_RULE = f"a PIN must be {PIN_MIN} to {PIN_MAX} digits"


@cache
def common_pins() -> frozenset[str]:
    """The PINs of ``resources/security/common_pins.txt``."""
    text = resource("security", "common_pins.txt").read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def _is_sequence(pin: str) -> bool:
    """Every digit one more (or every digit one less) than the one before, 0 following 9."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


def _is_repeat(pin: str) -> bool:
    """One block of at most half the PIN, repeated: 111111, 121212, 123123, 12341234."""
    return any(
        len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size)
        for size in range(1, len(pin) // 2 + 1)
    )


def _problem(pin: str) -> tuple[str, str] | None:
    """Why `pin` may not be chosen: its UI text's key (`RespineError.keyed`) and its sentence."""
    if not isinstance(pin, str) or not PIN_FORMAT.match(pin):
        return "pin_format", PIN_RULE
    if _is_sequence(pin):
        return "pin_sequence", "a PIN may not be a sequence of digits (like 123456 or 654321)"
    if _is_repeat(pin):
        return (
            "pin_repeat",
            "a PIN may not repeat a digit or a group of digits (like 111111 or 121212)",
        )
    if pin in common_pins():
        return "pin_common", "this PIN is one of the most common PINs: choose another"
    return None


def pin_policy_problem(pin: str) -> str | None:
    """Why `pin` may not be chosen (one short sentence), or None if it may."""
    problem = _problem(pin)
    return None if problem is None else problem[1]


def check_pin_policy(pin: str) -> str:
    """`pin` if it may be chosen, else InvalidInput saying why."""
    problem = _problem(pin)
    if problem is not None:
        key, sentence = problem
        raise InvalidInput(sentence).keyed(key, min=PIN_MIN, max=PIN_MAX)
    return pin


def pin_breaks_policy(pin: str) -> bool:
    """Whether a PIN that signed in must be changed (chosen under an older, weaker policy)."""
    return pin_policy_problem(pin) is not None
