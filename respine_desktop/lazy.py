"""A package's public names imported on first use (PEP 562): `attributes`.

`storage` and `exports` list each public name with the module it comes from, so that importing
the package loads none of them: a kiosk starts without the merge, a CSV worker without the bundle,
ODM and REDCap writers. The type checkers see the names through the packages' ``TYPE_CHECKING``
imports instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from importlib import import_module
from typing import Any

__all__ = ["attributes"]


def attributes(
    package: str, where: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of `package`, whose globals are `namespace`.

    A name of `where` maps to its module (``module`` or ``module:attribute`` when the name
    differs; a module without a dot is a submodule of `package`); it is imported when first
    looked up and kept in `namespace`, so the next look-up does not come here. Other names are
    an AttributeError. ``__dir__`` lists the globals and the package's ``__all__``."""

    def get(name: str) -> Any:
        found = where.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = found.partition(":")
        if "." not in module_name:  # a submodule of the package
            module_name = f"{package}.{module_name}"
        value = getattr(import_module(module_name), attribute or name)
        namespace[name] = value
        return value

    def listed() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return get, listed
