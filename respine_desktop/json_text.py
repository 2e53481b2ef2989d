"""JSON text read by the program: `loads`, Python's parser with one failure more made plain.

Python's parser recurses once per level of nesting and stops at the interpreter's recursion
limit with a ``RecursionError``: a line of 4,000 ``[`` (a signed bundle's member, a sealed
bundle's header that anyone can write, a payload edited in the database, a key or receipt
file) ended every command that read it in a traceback, where any other text that is not JSON
ends in the one-line refusal of the reader (``except ValueError``, ``except
json.JSONDecodeError``). `loads` raises `NestedTooDeeply` instead, a ``json.JSONDecodeError``
(so a ``ValueError``): every reader's own refusal then names it, unchanged. So for an integer
of more than 4,300 digits, which ``json.loads`` refuses with a plain ``ValueError`` (Python's
limit on converting digits), not a ``json.JSONDecodeError``. No JSON the
program writes is nested more than a few levels; SQLite's JSON functions refuse more than
1,000 (``json_valid`` is 0), about where Python's parser stops too.

Every module of the program reads JSON through `loads` (``tests/architecture``).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["NestedTooDeeply", "loads"]


class NestedTooDeeply(json.JSONDecodeError):
    """A JSON text nested more deeply than the parser can follow."""


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads(text)``; `NestedTooDeeply` (a ``json.JSONDecodeError``) for a text nested
    too deeply for the parser, a ``json.JSONDecodeError`` for an integer of more digits than
    Python converts (a plain ``ValueError`` from ``json.loads``, which the readers that catch
    JSON errors let through)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeeply("nested too deeply", _doc(text), 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise json.JSONDecodeError(str(exc).split(":")[0], _doc(text), 0) from None


def _doc(text: str | bytes | bytearray) -> str:
    return text if isinstance(text, str) else ""
